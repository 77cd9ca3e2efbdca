"""Liveness and readiness, asked by load balancers and on-call tools. The verdict is computed
here from what the service knows (replica watermark, last replica check, extra checks such
as "the disclosure log is writable"); the operations listener and the RDAP front-end's
optional public health path only print it. No web framework.

A stale replica is still served (stale data beats none): readiness reports it, nothing
stops answering.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.lookup import Lookup

#: Health answers are plain text (one line).
CONTENT_TYPE = "text/plain"


@dataclass(frozen=True, slots=True)
class HealthSettings:
    """The `[health]` section."""

    #: Seconds the replica's watermark may lag behind now before the service reports itself
    #: not ready (default 26 h: one daily deposit plus two hours to fetch and import it).
    max_replica_age: float = 93_600.0
    #: Seconds a streaming standby's replay may trail the WAL it received before the service
    #: reports itself not ready (PostgreSQL replicas only; docs/scale-out.md).
    max_replication_lag: float = 300.0


@dataclass(frozen=True, slots=True)
class Verdict:
    """Ready (or alive) or not, and the one-line reason."""

    ok: bool
    reason: str

    def answer(self) -> tuple[int, str]:
        """The HTTP status and body line: 200, or 503 with the reason."""
        return (200, f"{self.reason}\n") if self.ok else (503, f"not ready: {self.reason}\n")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h"


def stale_reason(watermark: dt.datetime, now: dt.datetime, max_age: float) -> str | None:
    """Why a replica with this watermark is too old at `now`, or None when it is young
    enough. Pure."""
    age = (now - watermark).total_seconds()
    if age <= max_age:
        return None
    stamp = watermark.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"replica is stale: watermark {stamp} is {_hours(age)} old (max {_hours(max_age)})"


def lag_reason(lag: float | None, max_lag: float) -> str | None:
    """Why a standby whose replay trails by `lag` seconds is too far behind, or None (also
    for None: not a standby). Pure."""
    if lag is None or lag <= max_lag:
        return None
    return f"replica is lagging: the standby's replay is {lag:.1f} s behind (max {max_lag:g} s)"


def writable_check(directory: Path, file_name: str, what: str) -> Callable[[], str | None]:
    """A readiness check: `directory` (and `file_name` in it, if present) can be written."""

    def check() -> str | None:
        target = directory / file_name
        if not os.access(directory, os.W_OK | os.X_OK):
            return f"{what} is not writable (directory {directory})"
        if target.exists() and not os.access(target, os.W_OK):
            return f"{what} is not writable ({target})"
        return None

    return check


class Health:
    """What `/healthz` and `/readyz` answer for one process."""

    def __init__(
        self,
        lookup: Lookup,
        settings: HealthSettings,
        clock: Callable[[], dt.datetime] = _utcnow,
        replication_lag: Callable[[], float | None] | None = None,
    ) -> None:
        self._lookup = lookup
        #: The standby's replay lag at the last check (None: not a standby).
        self.replication_lag: Callable[[], float | None] = replication_lag or (lambda: None)
        #: Replaced on reload (`max_replica_age` applies live).
        self.settings = settings
        self._clock = clock
        self._checks: list[Callable[[], str | None]] = []
        #: When the replica was last checked successfully (opening it counts).
        self.last_refresh: dt.datetime | None = clock()
        self._replica_ok = True

    def add_check(self, check: Callable[[], str | None]) -> None:
        """Another readiness condition: `check()` returns a reason when not ready."""
        self._checks.append(check)

    def refreshed(self, ok: bool) -> None:
        """The replica watcher's hook: one check of the replica, successful or not."""
        self._replica_ok = ok
        if ok:
            self.last_refresh = self._clock()

    def now(self) -> dt.datetime:
        """The health clock's reading."""
        return self._clock()

    def alive(self) -> Verdict:
        """The process runs and its event loop answers."""
        return Verdict(True, "alive")

    def ready(self) -> Verdict:
        """Replica readable, younger than `max_replica_age` and (a standby) trailing by at
        most `max_replication_lag`; every extra check passes."""
        if not self._replica_ok:
            return Verdict(False, "replica cannot be read")
        stale = stale_reason(self._lookup.watermark, self._clock(), self.settings.max_replica_age)
        if stale is not None:
            return Verdict(False, stale)
        lagging = lag_reason(self.replication_lag(), self.settings.max_replication_lag)
        if lagging is not None:
            return Verdict(False, lagging)
        for check in self._checks:
            reason = check()
            if reason is not None:
                return Verdict(False, reason)
        return Verdict(True, "ready")
