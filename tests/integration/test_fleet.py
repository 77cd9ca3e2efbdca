"""Readiness of the whole with several workers (`core.fleet`): a real replica, the shared
directory in a temp dir, a pinned clock; sibling workers are their published files."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from core import fleet
from core.fleet import SharedHealth
from core.health import HealthSettings, Verdict
from core.lookup import Lookup
from redaction.policy import default_policy
from replica.store import SqliteStore

YEARS = HealthSettings(max_replica_age=3_153_600_000.0)  # the demo replica counts as fresh


NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
T = NOW.timestamp()


def _health(
    store: SqliteStore, directory: Path, settings: HealthSettings, now: dt.datetime = NOW
) -> SharedHealth:
    return SharedHealth(Lookup(store, default_policy()), settings, directory, clock=lambda: now)


async def test_one_worker_not_ready_makes_the_whole_not_ready(
    store: SqliteStore, tmp_path: Path
) -> None:
    # GIVEN this worker ready, and a sibling that published "replica cannot be read"
    health = _health(store, tmp_path, YEARS)
    health.publish()
    assert (tmp_path / f"health_{os.getpid()}.txt").read_text() == f"1 {T:.3f}\n"
    (tmp_path / "health_4242.txt").write_text(f"0 {T} replica cannot be read\n")
    # THEN the whole is not ready, and the reason names the sibling; its own view is ready
    assert health.ready() == Verdict(False, "worker pid 4242: replica cannot be read")
    assert health.own().ok
    assert health.alive().ok
    # WHEN the supervisor forgets the dead sibling, THEN ready again
    fleet.forget(tmp_path, 4242)
    assert not (tmp_path / "health_4242.txt").exists()
    assert health.ready() == Verdict(True, "ready")
    # AND a ready sibling changes nothing
    (tmp_path / "health_4243.txt").write_text(f"1 {T - 10}\n")
    assert health.ready().ok


async def test_a_sibling_that_stopped_reporting_makes_the_whole_not_ready(
    store: SqliteStore, tmp_path: Path
) -> None:
    # GIVEN a sibling whose last report is 11 s old (a hung worker: alive, not ticking)
    (tmp_path / "health_4242.txt").write_text(f"1 {T - 11}\n")
    health = _health(store, tmp_path, YEARS)
    # THEN the whole is not ready until it reports again
    assert health.ready() == Verdict(False, "worker pid 4242: no health report for 11 s")
    (tmp_path / "health_4242.txt").write_text(f"1 {T}\n")
    assert health.ready().ok


async def test_this_workers_own_reason_comes_first(store: SqliteStore, tmp_path: Path) -> None:
    health = _health(store, tmp_path, HealthSettings(max_replica_age=60.0))
    (tmp_path / "health_4242.txt").write_text(f"0 {T} replica cannot be read\n")
    verdict = health.ready()
    assert not verdict.ok and verdict.reason.startswith("replica is stale")
    health.publish()
    published = (tmp_path / f"health_{os.getpid()}.txt").read_text()
    assert published.startswith(f"0 {T:.3f} replica is stale")


@pytest.mark.parametrize(
    ("text", "decoded"),
    [
        ("1 100.5\n", (Verdict(True, "ready"), 100.5)),
        ("0 100 replica cannot be read\n", (Verdict(False, "replica cannot be read"), 100.0)),
        ("0 100\n", (Verdict(False, "unreadable health file"), None)),  # no reason
        ("1 100 extra\n", (Verdict(False, "unreadable health file"), None)),
        ("1\n", (Verdict(False, "unreadable health file"), None)),  # no time
        ("1 soon\n", (Verdict(False, "unreadable health file"), None)),
        ("", (Verdict(False, "unreadable health file"), None)),
        ("garbage", (Verdict(False, "unreadable health file"), None)),
    ],
)
def test_published_lines_decode(text: str, decoded: tuple[Verdict, float | None]) -> None:
    assert fleet.decode(text) == decoded


@pytest.mark.parametrize(
    "verdict", [Verdict(True, "ready"), Verdict(False, "the disclosure log is not writable (x)")]
)
def test_published_lines_round_trip(verdict: Verdict) -> None:
    assert fleet.decode(fleet.encode(verdict, 1764547200.25)) == (verdict, 1764547200.25)


async def test_a_worker_that_cannot_publish_is_not_ready_and_keeps_checking(
    store: SqliteStore, tmp_path: Path
) -> None:
    """GIVEN the shared directory removed under a running worker (or a full disk) THEN its
    publish fails (logged, not raised), it reports not ready (its siblings cannot see it),
    and the replica watcher goes on checking, even past an observer that raises.
    Mutations: call observers without `_tell`'s try -> check() raises; drop the
    `_unpublished` check -> ready stays ok."""
    from core.watcher import ReplicaWatcher

    directory = tmp_path / "shared"
    directory.mkdir()
    health = _health(store, directory, YEARS)
    lookup = Lookup(store, default_policy())
    watcher = ReplicaWatcher(lookup, every=3600)  # checked by hand below
    ticks: list[bool] = []

    def broken(ok: bool) -> None:
        raise RuntimeError("an observer's bug")

    watcher.observe(broken)  # a failing observer neither stops the others nor the checks
    watcher.observe(lambda ok: health.publish())
    watcher.observe(ticks.append)
    await watcher.check()
    assert health.ready().ok and ticks == [True]
    for path in directory.iterdir():
        path.unlink()
    directory.rmdir()
    await watcher.check()  # publish fails inside: logged, not raised
    assert ticks == [True, True]
    verdict = health.ready()
    assert not verdict.ok and verdict.reason.startswith("cannot publish this worker's health")
    directory.mkdir()  # the next successful publish makes it ready again
    await watcher.check()
    assert health.ready().ok and ticks == [True, True, True]
