"""`rdds serve --workers 2` as a real process tree: both workers serve RDAP and WHOIS on the
same ports, SIGTERM stops all of them, a killed worker is replaced; and each worker's share of
the per-client budgets."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rdap.settings import RdapSettings, TierRate
from rdds import workers
from rdds.config import Settings
from whois43.settings import WhoisSettings

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> set[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return {int(p) for p in text.split()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")


def _wait(condition: Any, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def _rdap(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/domain/example.org", timeout=10) as r:
        return int(r.status)


def _whois(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"example.org\r\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _serving(rdap: int, whois: int) -> bool:
    try:
        return _rdap(rdap) == 200 and b"Domain Name: example.org" in _whois(whois)
    except OSError:
        return False


@pytest.fixture
def supervisor(demo_replica: Path, tmp_path: Path) -> Iterator[tuple[Any, int, int, Any]]:
    rdap_port, whois_port = _free_port(), _free_port()
    log = (tmp_path / "stderr").open("w+", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "rdds", "serve", "--replica", str(demo_replica), "--workers", "2",
         "--rdap-port", str(rdap_port), "--whois-port", str(whois_port)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=log,
    )  # fmt: skip
    try:
        _wait(lambda: len(_children(proc.pid)) == 2, "two workers")
        _wait(lambda: _serving(rdap_port, whois_port), "serving")
        yield proc, rdap_port, whois_port, log
    finally:
        if proc.poll() is None:
            pids = _children(proc.pid)
            proc.kill()
            proc.wait()
            for pid in pids:
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)
        log.close()


def test_two_workers_serve_and_stop_cleanly_on_sigterm(supervisor: Any) -> None:
    proc, rdap_port, whois_port, log = supervisor
    pids = _children(proc.pid)
    assert len(pids) == 2
    for _ in range(20):  # many connections: the kernel spreads them over both workers
        assert _rdap(rdap_port) == 200
        assert b"Domain Name: example.org" in _whois(whois_port)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert not any(_alive(pid) for pid in pids)  # no worker left behind
    log.seek(0)
    text = log.read()
    assert "Traceback" not in text and "exited" not in text


def test_a_killed_worker_is_replaced(supervisor: Any) -> None:
    proc, rdap_port, whois_port, log = supervisor
    before = _children(proc.pid)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)

    def logged() -> bool:
        log.seek(0)
        return f"(pid {victim}) exited (signal SIGKILL); restarting" in log.read()

    _wait(logged, "the supervisor's line")
    _wait(lambda: len(_children(proc.pid)) == 2 and victim not in _children(proc.pid), "a new one")
    after = _children(proc.pid)
    assert after - before and victim not in after
    _wait(lambda: _serving(rdap_port, whois_port), "serving again")
    log.seek(0)
    lines = [line for line in log.read().splitlines() if "exited" in line]
    assert len(lines) == 1  # one line per death
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert not any(_alive(pid) for pid in after)


def test_each_worker_enforces_its_share_of_the_budgets() -> None:
    settings = Settings(
        rdap=RdapSettings(
            rate_per_second=10.0,
            rate_burst=101,
            max_per_address=64,
            tier_rates=(TierRate(name="registrar", rate_per_second=8.0, rate_burst=3),),
        ),
        whois=WhoisSettings(rate_per_second=2.0, rate_burst=60, max_per_address=64),
    )
    part = workers.share(settings, 2)
    assert (part.rdap.rate_per_second, part.rdap.rate_burst) == (5.0, 51)
    assert part.rdap.max_per_address == 32
    assert (
        part.rdap.tier_rates[0].rate_per_second == 4.0 and part.rdap.tier_rates[0].rate_burst == 2
    )
    assert (part.whois.rate_per_second, part.whois.rate_burst) == (1.0, 30)
    assert part.whois.max_per_address == 32


def test_workers_below_one_is_one_line(demo_replica: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rdds", "serve", "--replica", str(demo_replica), "--workers", "0"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == "rdds: --workers: at least 1"


def test_workers_stop_when_the_supervisor_is_killed(supervisor: Any) -> None:
    """GIVEN the supervisor dies by SIGKILL (no chance to forward anything) THEN its workers
    stop by themselves and free the ports, instead of serving on with nobody to restart or
    stop them. Mutation: drop `_stop_with_parent(parent)` from `_worker` -> they serve on."""
    proc, rdap_port, whois_port, _ = supervisor
    pids = _children(proc.pid)
    assert len(pids) == 2
    proc.kill()
    proc.wait()
    _wait(lambda: not any(_alive(pid) for pid in pids), "workers stopped with the supervisor")
    assert not _serving(rdap_port, whois_port)
