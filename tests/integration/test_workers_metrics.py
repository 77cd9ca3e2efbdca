"""`rdds serve --workers 2` seen by an operator: one operations listener for the whole service.

A scripted mix of RDAP and WHOIS requests over many connections (SO_REUSEPORT spreads them
over both workers), each from its own loopback address where budgets must not interfere;
then one scrape of the one `[metrics]` port, parsed with prometheus-client's parser: every
count is exactly what the client saw, summed over the workers (the client tallies each
answer, 429 and refused connection: which worker took which connection is the kernel's
choice). A worker killed with SIGKILL is replaced and counted in
`rdds_worker_restarts_total`, and its counts stay in the totals (prometheus-client keeps a
dead process's counter files; `mark_process_dead` removes only its live gauges).
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.multiprocess import MultiProcessCollector

from rdap.observe import route_kind
from tests.integration.test_metrics import Samples, assert_closed_labels, parse

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """
[rdap]
refresh_seconds = 30.0          # ticks (gauge samples, health reports) rare: see the restart
rate_burst = 8                  # 4 per worker
rate_per_second = 0.0001        # refilled far too slowly to matter during the test
search_rate_burst = 2           # 1 per worker
search_rate_per_second = 0.0001
max_per_address = 2             # 1 per worker
header_timeout = 60.0
keepalive_timeout = 60.0

[whois]
rate_burst = 4                  # 2 per worker
rate_per_second = 0.0001
max_per_address = 2             # 1 per worker
read_timeout = 60.0

[health]
max_replica_age = 3153600000.0  # the demo watermark is in the past: ready all the same
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> set[int]:
    return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def _wait(condition: Callable[[], bool], what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


@dataclass
class Tally:
    """What the client saw, in the metrics' own labels."""

    requests: collections.Counter[tuple[str, str, str]] = field(default_factory=collections.Counter)
    limited: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    refused: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    sources: Iterator[str] = field(
        default_factory=lambda: (f"127.0.{n // 250 + 1}.{n % 250 + 1}" for n in range(10_000))
    )

    def fresh(self) -> str:
        """A loopback address no request came from yet (its own budgets and caps)."""
        return next(self.sources)


# --- RDAP -----------------------------------------------------------------------------------


def _read_answer(sock: socket.socket, keep: bool) -> int | None:
    """The status of the answer on `sock`, or None when the server closed it unanswered."""
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        while len(body) < length:
            chunk = sock.recv(65536)
            assert chunk, "answer cut short"
            body += chunk
        if not keep:
            while sock.recv(65536):  # the server closes: its connection slot is free again
                pass
    except ConnectionResetError:
        return None
    return int(head.split(b" ", 2)[1])


def rdap(tally: Tally, port: int, source: str, path: str, *, keep: bool = False) -> Any:
    """One GET from `source`, tallied; the socket when kept alive and answered."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(source, 0))
    close = "" if keep else "Connection: close\r\n"
    try:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: rdap.example\r\n{close}\r\n".encode())
        status = _read_answer(sock, keep)
    except BaseException:
        sock.close()
        raise
    if status is None:
        tally.refused["rdap", "per_network"] += 1  # closed at once: over a connection cap
    else:
        tally.requests["rdap", route_kind(path.split("?")[0]), str(status)] += 1
        if status == 429:
            kind = "search" if path.startswith("/domains") else "lookup"
            tally.limited["rdap", kind] += 1
    if keep and status is not None:
        return sock
    sock.close()
    return None


# --- WHOIS ----------------------------------------------------------------------------------


def _whois_outcome(tally: Tally, text: bytes) -> None:
    lower = text.lower()
    if b"too many open connections" in lower:
        tally.refused["whois", "per_network"] += 1
        return
    if b"rate limit" in lower:
        tally.requests["whois", "domain", "429"] += 1
        tally.limited["whois", "lookup"] += 1
    elif b"domain name: example.org" in lower:
        tally.requests["whois", "domain", "200"] += 1
    elif b"no match" in lower:
        tally.requests["whois", "domain", "404"] += 1
    else:
        assert lower.startswith(b"error:"), text
        tally.requests["whois", "invalid", "400"] += 1


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def whois(tally: Tally, port: int, source: str, line: bytes) -> None:
    """One query from `source`, tallied."""
    with socket.create_connection(
        ("127.0.0.1", port), timeout=30, source_address=(source, 0)
    ) as sock:
        sock.sendall(line)
        _whois_outcome(tally, _read_all(sock))


def whois_held(tally: Tally, port: int, source: str, count: int) -> None:
    """Open `count` connections from `source` and hold them; those refused at once say so
    and close, the others are then asked for example.org."""
    socks = [
        socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(source, 0))
        for _ in range(count)
    ]
    try:
        deadline = time.monotonic() + 3.0
        spoken: set[socket.socket] = set()
        while len(spoken) < count and (left := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([s for s in socks if s not in spoken], [], [], left)
            spoken.update(readable)
        for sock in socks:
            if sock not in spoken:
                sock.sendall(b"example.org\r\n")  # admitted: the server waits for a query
            _whois_outcome(tally, _read_all(sock))
    finally:
        for sock in socks:
            sock.close()


# --- the service ----------------------------------------------------------------------------


@dataclass
class Service:
    proc: subprocess.Popen[bytes]
    rdap_port: int
    whois_port: int
    metrics_port: int
    stderr: Path
    tmp: Path

    def directory(self) -> Path:
        (found,) = self.tmp.glob("rdds-metrics-*")
        return found

    def workers(self) -> set[int]:
        return _children(self.proc.pid)

    def scrape(self) -> tuple[str, Samples]:
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=30) as resp:
            text = resp.read().decode()
        return text, parse(text)

    def get(self, path: str) -> tuple[int, str]:
        url = f"http://127.0.0.1:{self.metrics_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=30) as resp:
                return int(resp.status), resp.read().decode()
        except urllib.error.HTTPError as err:
            with err:
                return int(err.code), err.read().decode()

    def gauge(self, pid: int, mode: str, name: str) -> float:
        """Worker `pid`'s own value of an unlabelled gauge, from its file."""
        path = self.directory() / f"gauge_{mode}_{pid}.db"
        values = MmapedDict.read_all_values_from_file(str(path))
        (value,) = [v for key, v, _, _ in values if json.loads(key)[0] == name]
        return float(value)

    def served_by(self, pid: int) -> float:
        """Answers worker `pid` counted, from its own file in the multiprocess directory."""
        files = [str(self.directory() / f"counter_{pid}.db")]
        return sum(
            s.value
            for metric in MultiProcessCollector.merge(files)
            for s in metric.samples
            if s.name == "rdds_requests_total"
        )


@pytest.fixture
def service(demo_replica: Path, tmp_path: Path) -> Iterator[Service]:
    config = tmp_path / "rdds.toml"
    config.write_text(CONFIG, encoding="utf-8")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    rdap_port, whois_port, metrics_port = _free_port(), _free_port(), _free_port()
    stdout, stderr = tmp_path / "stdout", tmp_path / "stderr"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RDDS_METRICS_PORT": str(metrics_port),  # a fixed port, as in production
        "TMPDIR": str(tmp),  # where the supervisor makes its multiprocess directory
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with stdout.open("wb") as out, stderr.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "rdds", "serve", "--replica", str(demo_replica),
             "--config", str(config), "--workers", "2",
             "--rdap-port", str(rdap_port), "--whois-port", str(whois_port)],
            env=env, stdout=out, stderr=err,
        )  # fmt: skip
    svc = Service(proc, rdap_port, whois_port, metrics_port, stderr, tmp)
    try:
        # Each worker prints its listeners once all of them listen (the operations one last).
        _wait(
            lambda: (
                stdout.read_text().count("rdds: metrics and health on") == 2
                or proc.poll() is not None
            ),
            "two workers listening",
        )
        assert proc.poll() is None, stderr.read_text()
        yield svc
    finally:
        if proc.poll() is None:
            pids = _children(proc.pid)
            proc.kill()
            proc.wait()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def _check(svc: Service, tally: Tally) -> tuple[str, Samples]:
    """Scrape once; every count equals the tally."""
    text, s = svc.scrape()
    seen = {
        (labels["frontend"], labels["route"], labels["status"]): v
        for (name, items), v in s.items()
        if name == "rdds_requests_total" and v
        for labels in [dict(items)]
    }
    assert seen == dict(tally.requests)
    for frontend in ("rdap", "whois"):
        total = sum(n for (f, _, _), n in tally.requests.items() if f == frontend)
        key = ("rdds_request_duration_seconds_count", (("frontend", frontend),))
        assert s.get(key, 0.0) == total
        for kind in ("lookup", "search"):
            labels = (("frontend", frontend), ("kind", kind))
            assert s.get(("rdds_rate_limited_total", labels), 0.0) == tally.limited[frontend, kind]
        for cap in ("per_network", "total"):
            labels = (("cap", cap), ("frontend", frontend))
            got = s.get(("rdds_connections_refused_total", labels), 0.0)
            assert got == tally.refused[frontend, cap], (frontend, cap)
    assert_closed_labels(text)
    assert "127.0." not in text and "example" not in text.lower()
    return text, s


def test_two_workers_one_exposition_exact_counts_and_a_restart(service: Service) -> None:
    svc, tally = service, Tally()
    directory = svc.directory()
    assert directory.stat().st_mode & 0o777 == 0o700  # private
    rp, wp = svc.rdap_port, svc.whois_port

    # GIVEN two workers, WHEN a scripted mix arrives, one connection each, fresh addresses
    for _ in range(2):
        for path in ["/domain/example.org", "/domain/example.org", "/domain/EXAMPLE.org",
                     "/domain/no-such-name.org", "/domain/bad..name", "/help", "/help",
                     "/domains?name=exam*.org", "/ip/192.0.2.1"]:  # fmt: skip
            rdap(tally, rp, tally.fresh(), path)
        for line in [b"example.org\r\n", b"example.org\r\n", b"no-such-name.org\r\n",
                     b"-Q example.org\r\n"]:  # fmt: skip
            whois(tally, wp, tally.fresh(), line)
    # AND one network spends past its budgets: lookups (4 a worker), searches (1 a worker)
    for _ in range(12):
        rdap(tally, rp, "127.0.0.2", "/domain/example.org")
    for _ in range(4):
        rdap(tally, rp, "127.0.0.3", "/domains?name=exam*.org")
    for _ in range(8):
        whois(tally, wp, "127.0.0.5", b"example.org\r\n")
    # AND one network opens more connections than its cap (1 a worker) allows
    held = [rdap(tally, rp, "127.0.0.4", "/help", keep=True) for _ in range(4)]
    for sock in held:
        if sock is not None:
            sock.close()
    whois_held(tally, wp, "127.0.0.6", 4)
    assert tally.limited["rdap", "lookup"] >= 4 and tally.limited["rdap", "search"] >= 2
    assert tally.limited["whois", "lookup"] >= 1
    assert tally.refused["rdap", "per_network"] >= 2 and tally.refused["whois", "per_network"] >= 2
    # (the kernel spreads connections: keep asking until each worker has answered some)
    workers = svc.workers()
    for _ in range(200):
        if all(svc.served_by(pid) > 0 for pid in workers):
            break
        rdap(tally, rp, tally.fresh(), "/help")
    assert all(svc.served_by(pid) > 0 for pid in workers)

    # THEN the one listener's exposition is the sum over both workers, exactly the tally
    _, s = _check(svc, tally)
    assert s[("rdds_worker_restarts_total", ())] == 0
    assert svc.get("/healthz") == (200, "alive\n")
    assert svc.get("/readyz") == (200, "ready\n")

    # WHEN a worker that answered requests is killed
    victim = max(workers, key=svc.served_by)
    before = svc.served_by(victim)
    os.kill(victim, signal.SIGKILL)
    _wait(
        lambda: f"(pid {victim}) exited (signal SIGKILL); restarting" in svc.stderr.read_text(),
        "the supervisor's line",
    )
    _wait(lambda: len(svc.workers()) == 2 and victim not in svc.workers(), "a new worker")
    # THEN its counter files stay, its live gauges and readiness are gone
    assert (directory / f"counter_{victim}.db").exists()
    assert svc.served_by(victim) == before
    assert not list(directory.glob(f"gauge_*_{victim}.db"))
    assert not (directory / f"health_{victim}.txt").exists()
    # AND the restart is counted once, and the dead worker's counts are still in the totals
    _wait(lambda: svc.scrape()[1].get(("rdds_worker_restarts_total", ()), 0) == 1, "counted")
    _check(svc, tally)
    # AND the new worker adds to the same totals
    (newcomer,) = svc.workers() - workers
    # (its live gauges are set before it publishes its readiness: never a generation 0)
    _wait(lambda: (directory / f"health_{newcomer}.txt").exists(), "the newcomer's report")
    assert svc.gauge(newcomer, "livemin", "rdds_replica_generation") == 1
    assert svc.scrape()[1][("rdds_replica_generation", ())] == 1
    for _ in range(200):
        if (directory / f"health_{newcomer}.txt").exists() and svc.served_by(newcomer) > 0:
            break
        rdap(tally, rp, tally.fresh(), "/help")
    assert svc.served_by(newcomer) > 0
    _, s = _check(svc, tally)
    assert s[("rdds_worker_restarts_total", ())] == 1

    # WHEN the supervisor is stopped, THEN it removes its directory
    svc.proc.send_signal(signal.SIGTERM)
    assert svc.proc.wait(timeout=60) == 0
    assert not directory.exists()


def test_one_worker_keeps_a_single_process_registry(demo_replica: Path, tmp_path: Path) -> None:
    """`rdds serve` without `--workers`: no multiprocess directory, metrics as before."""
    rdap_port, metrics_port = _free_port(), _free_port()
    stdout = tmp_path / "stdout"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RDDS_METRICS_PORT": str(metrics_port)}
    env["TMPDIR"] = str(tmp_path)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with stdout.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "rdds", "serve", "--replica", str(demo_replica),
             "--rdap-port", str(rdap_port), "--whois-port", "0"],
            env=env, stdout=out, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    try:
        _wait(lambda: "rdds: metrics and health on" in stdout.read_text(), "listening")
        tally = Tally()
        rdap(tally, rdap_port, "127.0.0.1", "/help")
        url = f"http://127.0.0.1:{metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=30) as resp:
            s = parse(resp.read().decode())
        labels = (("frontend", "rdap"), ("route", "help"), ("status", "200"))
        assert s[("rdds_requests_total", labels)] == 1
        assert s[("rdds_worker_restarts_total", ())] == 0
        assert not list(tmp_path.glob("rdds-metrics-*"))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
