"""The real `rdds serve` process on loopback, for clients installed outside the project."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass(frozen=True)
class Service:
    rdap_port: int
    whois_port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.rdap_port}/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def require(tool: str, path: str | None = None) -> str:
    """The tool's path; skip locally when absent, fail in CI (which installs it)."""
    found = path if path and os.access(path, os.X_OK) else shutil.which(tool)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} is not installed; .ci/run must install it")
        pytest.skip(f"{tool} is not installed")
    return found


@pytest.fixture(scope="session")
def service(demo_replica: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """`rdds serve` as a real process (the installed entry point's module)."""
    rdap_port, whois_port = free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log_path = tmp_path_factory.mktemp("serve") / "serve.log"
    # A file, not a pipe: a full pipe would stall the server.
    log = open(log_path, "w")  # noqa: SIM115 - closed when the fixture ends
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rdds",
            "serve",
            "--replica",
            str(demo_replica),
            "--rdap-port",
            str(rdap_port),
            "--whois-port",
            str(whois_port),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", rdap_port), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                log.close()
                pytest.fail(f"rdds serve did not start: {log_path.read_text()}")
            time.sleep(0.1)
    try:
        yield Service(rdap_port, whois_port)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail("rdds serve did not stop on SIGTERM")
        finally:
            log.close()
        assert code == 0, log_path.read_text()
        assert "Traceback" not in log_path.read_text()
