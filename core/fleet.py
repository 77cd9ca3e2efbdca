"""Readiness of the whole when `rdds serve --workers N` runs several worker processes (I/O:
one small file per worker in the multiprocess metrics directory). Each worker publishes its
own verdict there on every replica-watcher tick; whichever worker answers `/readyz` (they
share the operations port) reports the whole: ready only when every live worker is ready and
has published within `stale_after` seconds (one that stopped ticking hangs its share of the
connections).

Why the whole and not the answering worker: the kernel spreads connections over every
worker that listens, so a worker that cannot read the replica gets its share of the traffic
while its siblings look healthy. A worker that died is not counted: its sockets closed with
it, the others take its connections, and the supervisor removes its file
(`forget`) when it replaces it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from pathlib import Path

from prometheus_client import multiprocess

from core.health import Health, HealthSettings, Verdict
from core.lookup import Lookup

log = logging.getLogger("rdds.fleet")

#: A worker's published verdict: `health_<pid>.txt`, one line: "1 TIME" when ready, else
#: "0 TIME reason" (TIME: when it was published, Unix seconds of the health clock).
PREFIX, SUFFIX = "health_", ".txt"
#: Seconds without a publication after which a sibling counts as hung (with the default
#: one-second replica check, ten missed ticks).
STALE_AFTER = 10.0


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _file(directory: Path, pid: int) -> Path:
    return directory / f"{PREFIX}{pid}{SUFFIX}"


def encode(verdict: Verdict, at: float) -> str:
    """A verdict published at `at` as its line. Pure."""
    return f"1 {at:.3f}\n" if verdict.ok else f"0 {at:.3f} {verdict.reason}\n"


def decode(text: str) -> tuple[Verdict, float | None]:
    """A published line as the verdict and when it was published (anything unreadable is
    not ready, at no time). Pure."""
    flag, _, rest = text.strip().partition(" ")
    stamp, _, reason = rest.partition(" ")
    try:
        at: float | None = float(stamp)
    except ValueError:
        at = None
    if flag == "1" and at is not None and not reason:
        return Verdict(True, "ready"), at
    if flag == "0" and at is not None and reason:
        return Verdict(False, reason), at
    return Verdict(False, "unreadable health file"), None


class SharedHealth(Health):
    """One worker's health: its own liveness, and the readiness of every live worker."""

    def __init__(
        self,
        lookup: Lookup,
        settings: HealthSettings,
        directory: Path,
        clock: Callable[[], dt.datetime] = _utcnow,
        replication_lag: Callable[[], float | None] | None = None,
        stale_after: float = STALE_AFTER,
    ) -> None:
        super().__init__(lookup, settings, clock, replication_lag)
        self._directory = directory
        self._pid = os.getpid()
        self._stale_after = stale_after
        self._unpublished: str | None = None  # why the last publish failed

    def own(self) -> Verdict:
        """This worker's readiness alone."""
        return super().ready()

    def publish(self) -> None:
        """Write this worker's verdict, and that it still ticks, for its siblings. A write
        that fails (disk full, the directory removed) makes this worker not ready: siblings
        can no longer see it, so the whole cannot vouch for it."""
        text = encode(self.own(), self.now().timestamp())
        target = _file(self._directory, self._pid)
        scratch = target.with_name(f".{target.name}")
        try:
            scratch.write_text(text, encoding="utf-8")
            os.replace(scratch, target)  # atomic: a reader sees the old line or the new one
        except OSError as exc:
            self._unpublished = exc.strerror or type(exc).__name__
            log.error("cannot publish this worker's health: %s", self._unpublished)
            return
        self._unpublished = None

    def ready(self) -> Verdict:
        """Not ready with this worker's reason, or the first sibling's; else ready."""
        verdict = self.own()
        if not verdict.ok:
            return verdict
        if self._unpublished is not None:
            return Verdict(False, f"cannot publish this worker's health: {self._unpublished}")
        for path in sorted(self._directory.glob(f"{PREFIX}*{SUFFIX}")):
            pid = path.name[len(PREFIX) : -len(SUFFIX)]
            if pid == str(self._pid):
                continue
            try:
                sibling, at = decode(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                continue  # that worker died and was just forgotten
            if not sibling.ok:
                return Verdict(False, f"worker pid {pid}: {sibling.reason}")
            silent = self.now().timestamp() - (at or 0.0)
            if silent > self._stale_after:
                return Verdict(False, f"worker pid {pid}: no health report for {silent:.0f} s")
        return verdict


def forget(directory: Path, pid: int) -> None:
    """A worker died: drop its live gauges (`mark_process_dead`: its counters and histograms
    stay in the totals) and its published readiness."""
    multiprocess.mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]
    _file(directory, pid).unlink(missing_ok=True)
