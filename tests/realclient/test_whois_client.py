"""The Debian `whois` client against our responder on loopback (ASCII and IDN names).

Skipped when /usr/bin/whois is absent, except on CI (CI=true), where that is a failure:
CI installs the client (`apt-get install -y whois`).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from core.lookup import Lookup
from tests.whois_support import lookup, no_illegal_transitions, replica_path, running

__all__ = ["lookup", "no_illegal_transitions", "replica_path"]

pytestmark = pytest.mark.realclient

WHOIS = "/usr/bin/whois"
GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "whois"


def _client() -> str:
    if Path(WHOIS).exists():
        return WHOIS
    if os.environ.get("CI") == "true":
        pytest.fail(f"{WHOIS} is missing: CI must install it (apt-get install -y whois)")
    pytest.skip(f"{WHOIS} not installed (apt-get install -y whois); set CI=true to make this fail")


async def _run(port: int, name: str) -> tuple[int, bytes, bytes]:
    client = _client()
    # A UTF-8 locale, so the client converts an IDN to A-labels with libidn2.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    proc = await asyncio.create_subprocess_exec(
        client,
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        name,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, out, err


def _lf(golden: str) -> bytes:
    # The client passes CR LF through unchanged on Debian; compare line by line either way.
    return (GOLDEN / golden).read_bytes()


async def test_ascii_name(lookup: Lookup) -> None:
    server = await running(lookup)
    try:
        code, out, err = await _run(server.port, "example.coop")
        assert code == 0, err
        assert out.splitlines() == _lf("example.coop.txt").splitlines()
    finally:
        await server.close()


async def test_idn_name(lookup: Lookup) -> None:
    server = await running(lookup)
    try:
        code, out, err = await _run(server.port, "مثال.عراق")
        assert code == 0, err
        assert out.splitlines() == _lf("xn--mgbh0fb.xn--mgbtx2b.txt").splitlines()
        assert "Internationalized Domain Name: مثال.عراق" in out.decode()
    finally:
        await server.close()


async def test_not_found_and_error(lookup: Lookup) -> None:
    server = await running(lookup)
    try:
        _, out, _ = await _run(server.port, "nosuchname.coop")
        assert out.startswith(b'No match for "NOSUCHNAME.COOP".')
        _, out, _ = await _run(server.port, "exa*")
        assert (
            out.strip()
            == b"Error: Wildcard, partial and inverse searches are not offered on port 43."
        )
    finally:
        await server.close()


def test_client_is_the_debian_one() -> None:
    # Mutation that fails this: point WHOIS at any other program (e.g. /usr/bin/true, or a
    # script named whois): dpkg names another package or none, and no banner matches.
    client = os.path.realpath(_client())
    # Marco d'Itri's client, as Debian packages it: its version banner and bug address.
    banner = subprocess.run(
        [client, "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    assert re.match(r"Version 5\.\d+(\.\d+)?\.\n", banner.stdout), banner.stdout
    assert "md+whois@linux.it" in banner.stdout
    # And the file belongs to Debian's `whois` package (where dpkg exists).
    dpkg = shutil.which("dpkg")
    if dpkg is None:
        if os.environ.get("CI") == "true":
            pytest.fail("dpkg is missing: the CI image must be Debian-based")
        return
    owner = subprocess.run(
        [dpkg, "-S", client], capture_output=True, text=True, timeout=30, check=False
    )
    assert owner.returncode == 0, owner.stderr
    assert owner.stdout.split(":", 1)[0].strip() == "whois", owner.stdout
