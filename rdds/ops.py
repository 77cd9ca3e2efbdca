"""Composition root, operations part: one process's metrics and health, the probes that feed
the live gauges from the running front-ends, and the operations listener. Called by
`rdds.service`; the front-ends only see the `Metrics` and `Health` objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from access import disclosures
from core import fleet, opsserver
from core.fleet import SharedHealth
from core.health import Health, writable_check
from core.lookup import Lookup
from core.metrics import Metrics, multiprocess_dir
from core.watcher import ReplicaWatcher
from rdap.state import CACHE
from rdds.config import Settings
from whois43.server import WhoisServer


@dataclass(frozen=True, slots=True)
class Ops:
    """The process's metrics and health."""

    metrics: Metrics
    health: Health


def build(
    settings: Settings,
    lookup: Lookup,
    watcher: ReplicaWatcher,
    replication_lag: Callable[[], float | None] | None = None,
    *,
    worker: bool = False,
) -> Ops:
    """Metrics and health for a service, fed by the replica watcher's checks;
    `replication_lag` reads a standby's lag as of the last check (PostgreSQL replicas).
    `worker`: one of the workers of `rdds serve --workers N` (`rdds.workers`), whose
    readiness is the whole's (`core.fleet`, in the supervisor's multiprocess directory)."""
    metrics = Metrics()
    shared = multiprocess_dir() if worker else None
    health = (
        Health(lookup, settings.health, replication_lag=replication_lag)
        if shared is None
        else SharedHealth(
            lookup,
            settings.health,
            Path(shared),
            replication_lag=replication_lag,
            # A sibling is hung after ten missed replica checks (it publishes at each).
            stale_after=max(fleet.STALE_AFTER, 10 * settings.rdap.refresh_seconds),
        )
    )
    if settings.auth.data_dir is not None and settings.access_database is None:
        # Authorized access fails closed without its log: not ready when it cannot be written.
        # (A shared log in PostgreSQL is no readiness check: when the primary is away, every
        # node would leave the balancer, anonymous answers too.)
        health.add_check(
            writable_check(settings.auth.data_dir, disclosures.LOG, "the disclosure log")
        )
    watcher.observe(health.refreshed)

    def count_failure(ok: bool) -> None:
        if not ok:
            metrics.refresh_failures.inc()

    watcher.observe(count_failure)
    metrics.add_probe(lambda: metrics.stored_answers_usable.set(int(lookup.precomputed_ready())))
    metrics.add_probe(
        lambda: metrics.observe_replica(
            lookup.generation,
            lookup.watermark,
            health.last_refresh,
            health.now(),
            health.replication_lag(),
        )
    )
    if isinstance(health, SharedHealth):
        # One of several workers: whichever answers a scrape or /readyz reads its siblings'
        # live gauges and verdicts from the shared directory, as of their last tick.
        def publish(ok: bool) -> None:
            metrics.sample()
            health.publish()

        watcher.observe(publish)
        publish(True)  # at once: a new worker's gauges start at 0 (a generation 0 would
        # be the lowest of all until its first tick)
    return Ops(metrics, health)


def probe_rdap(metrics: Metrics, runner: web.AppRunner, app: web.Application) -> None:
    """Feed the RDAP front-end's connection and cache gauges at each sample."""

    def probe() -> None:
        server = runner.server
        metrics.observe_connections("rdap", len(server.connections) if server is not None else 0)
        cache = app[CACHE]
        metrics.observe_cache("rdap", len(cache), cache.size)

    metrics.add_probe(probe)


def probe_whois(metrics: Metrics, whois: WhoisServer) -> None:
    """Feed the WHOIS front-end's connection and cache gauges at each sample."""

    def probe() -> None:
        metrics.observe_connections("whois", len(whois.connections))
        metrics.observe_cache("whois", *whois.cache_size())

    metrics.add_probe(probe)


async def listen(
    settings: Settings, ops: Ops, *, reuse_port: bool = False
) -> opsserver.OpsServer | None:
    """Start the operations listener (None when `[metrics] enabled = false`); OSError when
    its port cannot be bound. `reuse_port`: the other workers listen on the same port."""
    if not settings.metrics.enabled:
        return None
    return await opsserver.start(ops.metrics, ops.health, settings.metrics, reuse_port=reuse_port)
