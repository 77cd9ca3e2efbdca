"""Test support: `rdds` as real processes (the command an operator runs), on 127.0.0.1, and
plain-library clients for both front-ends (no tool outside the project is needed)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
#: Generous: a start-up on the shared 2-core machine takes a second or two.
START_SECONDS = 60.0
_RDAP_LINE = re.compile(r"rdds: RDAP on http://(\S+):(\d+)/ \(links use (\S+)\)")
_WHOIS_LINE = re.compile(r"rdds: WHOIS on (\S+) port (\d+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


#: RDDS_* variables the suite itself sets for every serve (tests/conftest.py): kept.
SUITE_VARIABLES = frozenset({"RDDS_METRICS_PORT"})


def environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test's environment without any RDDS_* variable but the suite's own, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RDDS_") or k in SUITE_VARIABLES}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra or {})
    return env


def rdds(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run one `rdds` command to completion."""
    return subprocess.run(
        [sys.executable, "-m", "rdds", *args],
        cwd=ROOT,
        env=environment(env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@dataclass
class Serving:
    """A started `rdds serve`: where it listens, as it announced."""

    proc: subprocess.Popen[bytes]
    log: Path
    host: str
    rdap_port: int
    links: str
    whois_port: int | None

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextlib.contextmanager
def serve(
    args: Sequence[str], log: Path, env: Mapping[str, str] | None = None, whois: bool = True
) -> Iterator[Serving]:
    """`rdds serve ARGS` until the block ends (then SIGTERM: it must stop cleanly)."""
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "rdds", "serve", *args],
            cwd=ROOT,
            env=environment(env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            text = log.read_text(encoding="utf-8", errors="replace")
            rdap = _RDAP_LINE.search(text)
            w = _WHOIS_LINE.search(text)
            if rdap and (w or not whois):
                break
            if proc.poll() is not None:
                raise AssertionError(f"rdds serve exited {proc.returncode}: {text}")
            if time.monotonic() > deadline:
                raise AssertionError(f"rdds serve did not announce its ports: {text}")
            time.sleep(0.05)
        yield Serving(
            proc,
            log,
            rdap.group(1),
            int(rdap.group(2)),
            rdap.group(3),
            int(w.group(2)) if w else None,
        )
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        text = log.read_text(encoding="utf-8", errors="replace")
        assert code == 0, text
        assert "Traceback" not in text, text
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def http_get(
    port: int, path: str, headers: Mapping[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    """GET from 127.0.0.1:port; (status, headers, parsed JSON body)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


def whois_query(port: int, line: str) -> str:
    """One port-43 query on 127.0.0.1:port; the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(line.encode() + b"\r\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8")


def wait_for(check: Any, what: str, seconds: float = START_SECONDS) -> Any:
    """Poll `check()` until it returns something true (a liveness bound, not a timing claim)."""
    deadline = time.monotonic() + seconds
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)
