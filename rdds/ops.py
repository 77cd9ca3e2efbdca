"""Composition root, operations part: one process's metrics and health, the probes that feed
the live gauges from the running front-ends, and the operations listener. Called by
`rdds.service`; the front-ends only see the `Metrics` and `Health` objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from access import disclosures
from core import opsserver
from core.health import Health, writable_check
from core.lookup import Lookup
from core.metrics import Metrics
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
) -> Ops:
    """Metrics and health for a service, fed by the replica watcher's checks;
    `replication_lag` reads a standby's lag as of the last check (PostgreSQL replicas)."""
    metrics = Metrics()
    health = Health(lookup, settings.health, replication_lag=replication_lag)
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
    metrics.add_probe(
        lambda: metrics.observe_replica(
            lookup.generation,
            lookup.watermark,
            health.last_refresh,
            health.now(),
            health.replication_lag(),
        )
    )
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


async def listen(settings: Settings, ops: Ops) -> opsserver.OpsServer | None:
    """Start the operations listener (None when `[metrics] enabled = false`); OSError when
    its port cannot be bound."""
    if not settings.metrics.enabled:
        return None
    return await opsserver.start(ops.metrics, ops.health, settings.metrics)
