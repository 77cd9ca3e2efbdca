"""Health: `/healthz` and `/readyz` on the operations listener and on the optional public
path, over a real replica built by the importer (GIVEN/WHEN/THEN)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from core import opsserver
from core.health import Health, HealthSettings
from core.lookup import Lookup
from core.metrics import Metrics
from core.watcher import ReplicaWatcher
from escrow.importer import import_deposits
from rdap.server import make_app
from rdap.settings import RdapConfig
from rdds import config, service
from redaction.policy import default_policy
from replica.store import open_store

DEPOSITS = Path(__file__).resolve().parent.parent / "data" / "deposits"
FULL = DEPOSITS / "example_2026-11-22_full_S1_R0.xml"  # watermark 2026-11-22T00:00Z
DIFF = DEPOSITS / "example_2026-11-23_diff_S1_R0.xml"  # watermark 2026-11-23T00:00Z
#: The clock the tests read: 36 h after the FULL deposit's watermark, 12 h after the DIFF's.
NOW = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
DAY = 86_400.0

MakeClient = Callable[..., Awaitable[TestClient[Any, Any]]]


async def get(client: TestClient[Any, Any], path: str) -> tuple[int, str]:
    resp = await client.get(path)
    return resp.status, await resp.text()


async def test_readiness_follows_replica_age_and_recovers_after_import(
    tmp_path: Path, aiohttp_client: MakeClient
) -> None:
    # GIVEN a replica from the FULL deposit (36 h old at NOW) and a one-day limit
    replica = tmp_path / "replica.sqlite"
    import_deposits(replica, [FULL])
    store = await open_store(replica, pool_size=1)
    try:
        lookup = Lookup(store, default_policy())
        health = Health(lookup, HealthSettings(max_replica_age=DAY), clock=lambda: NOW)
        watcher = ReplicaWatcher(lookup, every=3600)  # checked by hand below
        watcher.observe(health.refreshed)
        client = await aiohttp_client(opsserver.make_app(Metrics(), health))

        # WHEN the load balancer asks, THEN alive but not ready, with the reason on one line
        assert await get(client, "/healthz") == (200, "alive\n")
        status, text = await get(client, "/readyz")
        assert status == 503
        assert text == (
            "not ready: replica is stale: watermark 2026-11-22T00:00:00Z is 36.0 h old "
            "(max 24.0 h)\n"
        )

        # WHEN the next deposit is imported and the watcher notices, THEN ready again
        import_deposits(replica, [DIFF])
        assert await watcher.check()
        assert await get(client, "/readyz") == (200, "ready\n")

        # WHEN the limit is tightened (a reload), THEN not ready again: 12 h > 6 h
        health.settings = HealthSettings(max_replica_age=DAY / 4)
        status, text = await get(client, "/readyz")
        assert status == 503 and "12.0 h old (max 6.0 h)" in text
    finally:
        await store.close()


async def test_unreadable_replica_is_not_ready(tmp_path: Path, aiohttp_client: MakeClient) -> None:
    # GIVEN a fresh replica and a watcher; WHEN a check of the replica fails
    replica = tmp_path / "replica.sqlite"
    import_deposits(replica, [FULL])
    store = await open_store(replica, pool_size=1)
    try:
        lookup = Lookup(store, default_policy())
        health = Health(lookup, HealthSettings(max_replica_age=DAY * 2), clock=lambda: NOW)
        client = await aiohttp_client(opsserver.make_app(Metrics(), health))
        assert (await get(client, "/readyz"))[0] == 200
        health.refreshed(False)
        # THEN not ready, and ready again after the next good check
        assert await get(client, "/readyz") == (503, "not ready: replica cannot be read\n")
        health.refreshed(True)
        assert (await get(client, "/readyz"))[0] == 200
    finally:
        await store.close()


async def test_readiness_and_the_lag_gauge_follow_a_standbys_replication_lag(
    tmp_path: Path, aiohttp_client: MakeClient
) -> None:
    # GIVEN a fresh replica read from a standby whose replay lag the store reports
    replica = tmp_path / "replica.sqlite"
    import_deposits(replica, [FULL])
    store = await open_store(replica, pool_size=1)
    lag: list[float | None] = [0.0]
    try:
        lookup = Lookup(store, default_policy())
        limits = HealthSettings(max_replica_age=DAY * 2, max_replication_lag=60.0)
        health = Health(lookup, limits, clock=lambda: NOW, replication_lag=lambda: lag[0])
        metrics = Metrics()
        metrics.add_probe(
            lambda: metrics.observe_replica(
                lookup.generation, lookup.watermark, None, NOW, health.replication_lag()
            )
        )
        client = await aiohttp_client(opsserver.make_app(metrics, health))
        assert await get(client, "/readyz") == (200, "ready\n")
        # WHEN the replay falls 90 s behind, THEN not ready, and the gauge says by how much
        lag[0] = 90.0
        assert await get(client, "/readyz") == (
            503,
            "not ready: replica is lagging: the standby's replay is 90.0 s behind (max 60 s)\n",
        )
        assert "rdds_replica_replication_lag_seconds 90.0" in (await get(client, "/metrics"))[1]
        # WHEN the limit is raised (a reload), THEN ready again
        health.settings = replace(limits, max_replication_lag=120.0)
        assert (await get(client, "/readyz"))[0] == 200
        # WHEN the database turns out to be a primary (no lag), THEN the gauge reads 0
        lag[0] = None
        assert "rdds_replica_replication_lag_seconds 0.0" in (await get(client, "/metrics"))[1]
    finally:
        await store.close()


async def test_public_health_path_is_off_by_default_and_answers_when_set(
    demo_replica: Path, aiohttp_client: MakeClient
) -> None:
    store = await open_store(demo_replica, pool_size=1)
    try:
        lookup = Lookup(store, default_policy())
        health = Health(lookup, HealthSettings(max_replica_age=DAY), clock=lambda: NOW)
        base = RdapConfig(base_url="https://rdap.registry.example/", port43=None)
        # GIVEN the default configuration, THEN the path is an ordinary (unknown) RDAP path
        off = await aiohttp_client(make_app(lookup, base, health=health))
        resp = await off.get("/_health/readyz")
        assert resp.status in (400, 404) and resp.content_type == "application/rdap+json"
        # GIVEN `health_path = "/_health"`, THEN readiness and liveness on the public port
        on = await aiohttp_client(
            make_app(lookup, replace(base, health_path="/_health"), health=health)
        )
        resp = await on.get("/_health/readyz")
        assert resp.status == 503 and resp.content_type == "text/plain"
        assert (await resp.text()).startswith("not ready: replica is stale: watermark")
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
        assert len(resp.headers["X-Request-Id"]) == 16
        resp = await on.get("/_health/healthz")
        assert resp.status == 200 and await resp.text() == "alive\n"
        # AND RDAP answers are unchanged beside it
        resp = await on.get("/domain/example.org")
        assert resp.status == 200
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("", None),
        ("/_health", None),
        ("/ops/lb-check", None),
        ("_health", "expected"),
        ("/_health/", "expected"),
        ("/", "expected"),
        ("/a//b", "expected"),
        ("/domain", "is an RDAP"),
        ("/help", "is an RDAP"),
        ("/entities", "is an RDAP"),
        ("/.well-known", "is an RDAP"),
        ("/contact", "is an RDAP"),
        ("/he alth", "letters, digits"),
    ],
)
def test_health_path_must_not_collide(path: str, problem: str | None) -> None:
    text = f'[rdap]\nhealth_path = "{path}"\n'
    if problem is None:
        assert config.parse(text, "rdds.toml").rdap.health_path == path
    else:
        with pytest.raises(config.ConfigError) as err:
            config.parse(text, "rdds.toml")
        assert err.value.message.startswith("rdds.toml: rdap.health_path: ")
        assert problem in err.value.message


async def test_service_not_ready_when_disclosure_log_cannot_be_written(
    tmp_path: Path, demo_replica: Path
) -> None:
    # GIVEN the service with authorized access and a generous age limit
    data = tmp_path / "access"
    s = config.Settings(replica=demo_replica)
    s = replace(
        s,
        rdap=replace(s.rdap, port=0),
        whois=replace(s.whois, enabled=False),
        metrics=replace(s.metrics, port=0),
        health=HealthSettings(max_replica_age=DAY * 365 * 50),
        auth=replace(s.auth, data_dir=data),
    )
    running = await service.start(s)
    try:
        url = f"http://127.0.0.1:{running.metrics_port}/readyz"
        async with aiohttp.ClientSession() as session:
            async with session.get(url) as resp:
                assert resp.status == 200
            # WHEN the data directory disappears (an unmounted volume)
            for child in data.iterdir():
                child.unlink()
            data.rmdir()
            # THEN not ready, naming the disclosure log
            async with session.get(url) as resp:
                assert resp.status == 503
                assert "the disclosure log is not writable" in await resp.text()
    finally:
        await running.close()
