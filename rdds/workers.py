"""Composition root: `rdds serve --workers N`. A supervisor process forks N workers that each
run the whole service (their own store pool, caches and replica watcher) on the same RDAP and
WHOIS ports (SO_REUSEPORT: the kernel spreads connections over them); it forwards SIGTERM and
SIGINT to all, and restarts a worker that dies (with backoff, one log line each); a worker
stops by itself when the supervisor dies, even by SIGKILL (Linux `PR_SET_PDEATHSIG`).

Per-client limits are counted in each worker alone, so each worker enforces `1/N` of every
budget: a client's connections are spread roughly evenly, so together they allow about the
configured budget (docs/operations.md).

Metrics and health: the supervisor makes a private directory for prometheus-client's
multiprocess mode before the first fork (`core.metrics.use_multiprocess`) and removes it at
exit; every worker writes its figures there and binds the one `[metrics]` port
(SO_REUSEPORT), so whichever worker a scrape reaches answers with the sum over all of them
(`core.fleet` does the same for `/readyz`). The supervisor hands each dead worker to
`mark_process_dead` and counts its replacement in `rdds_worker_restarts_total`. It serves
nothing itself: it stays a plain loop with no thread or event loop, which is what makes
forking a replacement at any time safe.
"""

from __future__ import annotations

import asyncio
import logging
import math
import multiprocessing
import multiprocessing.connection
import multiprocessing.process
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import FrameType

from prometheus_client import CollectorRegistry, Counter

from core import fleet
from core.metrics import WORKER_RESTARTS, use_multiprocess
from rdds import service
from rdds.config import Settings
from registry.errors import ConfigError, RddsError

log = logging.getLogger("rdds.workers")

#: A worker that ran at least this long restarts at once; quicker deaths back off.
STEADY_SECONDS = 10.0
MAX_BACKOFF = 30.0
#: Seconds a worker gets to finish in-flight requests after SIGTERM before SIGKILL.
STOP_SECONDS = 20.0
#: Exit code of an operator error (rdds.cli): restarting would only repeat it.
CONFIG_EXIT = 2


def share(settings: Settings, workers: int) -> Settings:
    """One worker's settings: every per-client budget and per-address cap divided by N."""

    def rate(r: float) -> float:
        return r / workers

    def count(n: int) -> int:
        return max(1, math.ceil(n / workers))

    rdap = settings.rdap
    rdap = replace(
        rdap,
        rate_per_second=rate(rdap.rate_per_second),
        rate_burst=count(rdap.rate_burst),
        search_rate_per_second=rate(rdap.search_rate_per_second),
        search_rate_burst=count(rdap.search_rate_burst),
        max_per_address=count(rdap.max_per_address),
        tier_rates=tuple(
            replace(
                t,
                rate_per_second=rate(t.rate_per_second),
                rate_burst=count(t.rate_burst),
                search_rate_per_second=rate(t.search_rate_per_second),
                search_rate_burst=count(t.search_rate_burst),
            )
            for t in rdap.tier_rates
        ),
    )
    whois = settings.whois
    whois = replace(
        whois,
        rate_per_second=rate(whois.rate_per_second),
        rate_burst=count(whois.rate_burst),
        max_per_address=count(whois.max_per_address),
    )
    return replace(settings, rdap=rdap, whois=whois)


def _reserve_port(host: str) -> socket.socket:
    """A bound, not listening, SO_REUSEPORT socket: a free port all workers then bind."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, 0))
    return sock


#: prctl(2) option: the signal this process gets when its parent dies (Linux).
_PR_SET_PDEATHSIG = 1


def _stop_with_parent(parent: int) -> None:
    """SIGTERM (a clean stop) when the supervisor dies, however it dies: a SIGKILLed
    supervisor must not leave workers holding the ports with nobody to stop or restart
    them. Linux only (prctl); elsewhere an orphaned worker runs until stopped by hand."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        log.warning("worker: cannot ask to stop with the supervisor (errno %d)", ctypes.get_errno())
    if os.getppid() != parent:  # the supervisor died before the request took effect
        sys.exit(0)


def _worker(
    settings: Settings, load: Callable[[], Settings] | None, source: str, parent: int
) -> None:
    # The supervisor's signal handlers came along with the fork: the service sets its own.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    _stop_with_parent(parent)
    try:
        asyncio.run(service.serve(settings, load, source, reuse_port=True))
    except RddsError as exc:  # an operator error: one line, as the command says it
        print(f"rdds: {exc.message}", file=sys.stderr, flush=True)
        sys.exit(CONFIG_EXIT)
    except Exception as exc:
        log.debug("unexpected error", exc_info=True)
        print(f"rdds: worker: unexpected error ({type(exc).__name__})", file=sys.stderr)
        sys.exit(1)


def run(
    settings: Settings,
    workers: int,
    load: Callable[[], Settings] | None = None,
    source: str = "(defaults)",
) -> int:
    """Supervise `workers` worker processes until SIGTERM or SIGINT (SIGHUP is forwarded:
    each worker reloads); the exit code. `load` re-reads the configuration (service.serve)."""
    if workers < 1:
        raise ConfigError("--workers: at least 1")
    if workers == 1:
        return service.run(settings, load, source)
    if not hasattr(socket, "SO_REUSEPORT"):
        raise ConfigError("--workers: needs SO_REUSEPORT (Linux, BSD); run one worker")
    # Built once here, not raced by N workers.
    replica = settings.replica if settings.replica is not None else service.demo_replica(settings)
    settings = replace(settings, replica=replica, demo=False)
    reserved: list[socket.socket] = []
    try:
        if settings.rdap.port == 0:
            reserved.append(_reserve_port(settings.host))
            port = reserved[-1].getsockname()[1]
            settings = replace(settings, rdap=replace(settings.rdap, port=port))
        if settings.whois.enabled and settings.whois.port == 0:
            reserved.append(_reserve_port(settings.host))
            port = reserved[-1].getsockname()[1]
            settings = replace(settings, whois=replace(settings.whois, port=port))
    except OSError as exc:
        for sock in reserved:
            sock.close()
        raise ConfigError(f"cannot reserve a port on {settings.host}: {exc.strerror}") from None
    metrics = settings.metrics
    if metrics.enabled and metrics.port == 0:
        # The workers share one operations listener: the port is picked once, here.
        try:
            reserved.append(_reserve_port(metrics.host))
        except OSError as exc:
            for sock in reserved:
                sock.close()
            raise ConfigError(f"cannot reserve a port on {metrics.host}: {exc.strerror}") from None
        metrics = replace(metrics, port=reserved[-1].getsockname()[1])
        settings = replace(settings, metrics=metrics)
    ports = (settings.rdap.port, settings.whois.port, settings.metrics.port)

    def reload() -> Settings:
        # A reload keeps the ports the workers listen on, and each worker's share.
        assert load is not None
        fresh = load()
        rdap, whois = replace(fresh.rdap, port=ports[0]), replace(fresh.whois, port=ports[1])
        metrics = replace(fresh.metrics, port=ports[2])
        return share(replace(fresh, rdap=rdap, whois=whois, metrics=metrics), workers)

    # Private (0700) and new, so never another run's figures; removed again at exit.
    directory = Path(tempfile.mkdtemp(prefix="rdds-metrics-"))
    try:
        use_multiprocess(str(directory))
        return _supervise(
            share(settings, workers),
            workers,
            reload if load is not None else None,
            source,
            directory,
        )
    finally:
        for sock in reserved:
            sock.close()
        shutil.rmtree(directory, ignore_errors=True)


def _supervise(
    settings: Settings,
    workers: int,
    load: Callable[[], Settings] | None,
    source: str,
    directory: Path,
) -> int:
    ctx = multiprocessing.get_context("fork")  # before any thread or event loop exists
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    procs: dict[int, multiprocessing.process.BaseProcess] = {}

    def hup(signum: int, frame: FrameType | None) -> None:
        for proc in procs.values():
            if proc.is_alive() and proc.pid is not None:
                os.kill(proc.pid, signal.SIGHUP)

    signal.signal(signal.SIGHUP, hup)
    # In the multiprocess directory: the sum over processes is the supervisor's own count.
    restarts = Counter(*WORKER_RESTARTS, registry=CollectorRegistry())
    replacing: set[int] = set()  # slots whose worker died: their next start is a restart
    started: dict[int, float] = {}
    backoff: dict[int, float] = dict.fromkeys(range(workers), 0.0)
    due: dict[int, float] = dict.fromkeys(range(workers), 0.0)  # slot -> when to (re)start
    code = 0
    while not stopping:
        now = time.monotonic()
        for slot, when in list(due.items()):
            if when <= now:
                del due[slot]
                proc = ctx.Process(
                    target=_worker,
                    args=(settings, load, source, os.getpid()),
                    name=f"rdds-worker-{slot}",
                )
                proc.start()
                procs[slot], started[slot] = proc, now
                if slot in replacing:
                    replacing.discard(slot)
                    restarts.inc()
        waits = [p.sentinel for p in procs.values()]
        timeout = min([0.5, *(max(0.0, w - now) for w in due.values())])
        multiprocessing.connection.wait(waits, timeout=timeout)
        if stopping:
            break
        for slot, dead in list(procs.items()):
            if dead.is_alive():
                continue
            dead.join()
            del procs[slot]
            if dead.pid is not None:
                # Its live gauges and verdict go; its counters and histograms stay in the sums.
                fleet.forget(directory, dead.pid)
            if dead.exitcode == CONFIG_EXIT:
                # The worker said why on stderr (a port in use, a bad replica): stop them all.
                code, stopping = CONFIG_EXIT, True
                break
            lived = time.monotonic() - started[slot]
            delay = (
                0.0 if lived >= STEADY_SECONDS else min(MAX_BACKOFF, max(0.5, backoff[slot] * 2))
            )
            backoff[slot] = delay
            due[slot] = time.monotonic() + delay
            replacing.add(slot)
            log.warning(
                "worker %d (pid %s) exited (%s); restarting in %.1fs",
                slot,
                dead.pid,
                _how(dead.exitcode),
                delay,
            )
    _stop_all(list(procs.values()))
    return code


def _how(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f"signal {signal.Signals(-exitcode).name}"
    return f"exit code {exitcode}"


def _stop_all(procs: list[multiprocessing.process.BaseProcess]) -> None:
    """SIGTERM to every worker (they finish in-flight requests), SIGKILL to laggards."""
    for proc in procs:
        if proc.is_alive() and proc.pid is not None:
            os.kill(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for proc in procs:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join()
