"""Metrics: the whole service on loopback, a scripted mix of RDAP and WHOIS requests, then
a scrape of the operations listener parsed with prometheus-client's own parser."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from access.service import build
from access.settings import AuthSettings
from core.lookup import Lookup
from core.metrics import Metrics
from rdap.server import make_app
from rdap.settings import RdapConfig
from rdds import config, service
from redaction.policy import default_policy
from replica.store import SqliteStore
from tests.integration.conftest import BASE
from tests.integration.test_access_rdap import CRIME, LE, bearer, issue
from tests.whois_support import ask

ROOT = Path(__file__).resolve().parent.parent.parent

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    """Every sample of an exposition, keyed by (name, sorted labels)."""
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[s.name, tuple(sorted(s.labels.items()))] = s.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def settings_for(replica: Path, **whois: object) -> config.Settings:
    s = config.Settings(replica=replica)
    return replace(
        s,
        rdap=replace(s.rdap, port=0, base_url="https://rdap.registry.example/"),
        whois=replace(s.whois, port=0, **whois),  # type: ignore[arg-type]
        metrics=replace(s.metrics, port=0),
    )


@pytest.fixture
async def running(demo_replica: Path) -> AsyncIterator[service.Running]:
    # Four tokens per client network, refilled far too slowly to matter during the test.
    r = await service.start(settings_for(demo_replica, rate_burst=4, rate_per_second=0.0001))
    try:
        yield r
    finally:
        await r.close()


async def scrape(port: int) -> str:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/metrics") as resp,
    ):
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        return await resp.text()


async def test_scripted_mix_gives_exact_counts(running: service.Running) -> None:
    # GIVEN the service on loopback, WHEN a scripted mix of requests is sent
    rdap = f"http://127.0.0.1:{running.rdap_port}"
    connector = aiohttp.TCPConnector(limit=1)  # one keep-alive connection for every request
    async with aiohttp.ClientSession(connector=connector) as session:
        for path, status in [
            ("/domain/example.org", 200),  # miss
            ("/domain/example.org", 200),  # hit
            ("/domain/EXAMPLE.org", 200),  # another request string: miss
            ("/domain/no-such-name.org", 404),  # miss
            ("/domain/bad..name", 400),  # refused while parsing: no cache consultation
            ("/help", 200),  # miss
            ("/help", 200),  # hit
        ]:
            async with session.get(rdap + path) as resp:
                assert resp.status == status, path
                assert len(resp.headers["X-Request-Id"]) == 16
                await resp.read()
        assert running.metrics_port is not None
        # WHOIS: four tokens; a malformed line costs none.
        port = running.whois_port
        assert port is not None
        assert b"Domain Name: example.org" in await ask(port, b"example.org\r\n")  # miss
        assert b"Domain Name: example.org" in await ask(port, b"example.org\r\n")  # hit
        assert b"No match" in await ask(port, b"no-such-name.org\r\n")  # miss
        await ask(port, b"-Q example.org\r\n")  # unknown flag: 400, no token
        await ask(port, b"example.org\r\n")  # hit, the last token
        assert b"limit" in (await ask(port, b"example.org\r\n")).lower()  # rate limited
        text = await scrape(running.metrics_port)
    s = parse(text)

    # THEN every counter matches the script exactly
    requests = "rdds_requests_total"
    assert value(s, requests, frontend="rdap", route="domain", status="200") == 3
    assert value(s, requests, frontend="rdap", route="domain", status="404") == 1
    assert value(s, requests, frontend="rdap", route="domain", status="400") == 1
    assert value(s, requests, frontend="rdap", route="help", status="200") == 2
    assert value(s, requests, frontend="whois", route="domain", status="200") == 3
    assert value(s, requests, frontend="whois", route="domain", status="404") == 1
    assert value(s, requests, frontend="whois", route="domain", status="429") == 1
    assert value(s, requests, frontend="whois", route="invalid", status="400") == 1
    assert value(s, "rdds_answer_cache_hits_total", frontend="rdap") == 2
    assert value(s, "rdds_answer_cache_misses_total", frontend="rdap") == 4
    assert value(s, "rdds_answer_cache_hits_total", frontend="whois") == 2
    assert value(s, "rdds_answer_cache_misses_total", frontend="whois") == 2
    assert value(s, "rdds_rate_limited_total", frontend="whois") == 1
    assert value(s, "rdds_request_duration_seconds_count", frontend="rdap") == 7
    assert value(s, "rdds_request_duration_seconds_count", frontend="whois") == 6
    assert value(s, "rdds_lookup_duration_seconds_count", frontend="rdap", route="domain") == 3
    assert value(s, "rdds_lookup_duration_seconds_count", frontend="rdap", route="help") == 1
    assert value(s, "rdds_lookup_duration_seconds_count", frontend="whois", route="domain") == 2
    # AND the live gauges describe the running service
    assert value(s, "rdds_answer_cache_entries", frontend="rdap") == 4
    assert value(s, "rdds_answer_cache_entries", frontend="whois") == 2
    assert value(s, "rdds_answer_cache_bytes", frontend="whois") > 1000
    assert value(s, "rdds_open_connections", frontend="rdap") == 1  # our keep-alive one
    assert value(s, "rdds_replica_generation") == 1
    assert value(s, "rdds_replica_age_seconds") > 0
    assert ("rdds_replica_refresh_age_seconds", ()) in s
    # AND no label value anywhere is a queried name
    assert "example" not in text.lower() and "no-such-name" not in text


async def test_metrics_listener_is_off_when_disabled(demo_replica: Path) -> None:
    s = settings_for(demo_replica)
    r = await service.start(replace(s, metrics=replace(s.metrics, enabled=False)))
    try:
        assert r.metrics_port is None
    finally:
        await r.close()


async def test_disclosures_counted_by_tier_and_purpose_only(
    tmp_path: Path,
    store: SqliteStore,
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
) -> None:
    # GIVEN authorized access and a law-enforcement credential
    data_dir = tmp_path / "data"
    _, token = issue(data_dir, LE, (CRIME,))
    metrics = Metrics()
    app = make_app(
        Lookup(store, default_policy()),
        RdapConfig(base_url=BASE, port43=None),
        build(AuthSettings(data_dir=data_dir), default_policy()),
        metrics=metrics,
    )
    client = await aiohttp_client(app)
    # WHEN it sees withheld data twice, and the public asks once
    for headers in (bearer(token), bearer(token), {}):
        async with client.get("/domain/example.org", headers=headers) as resp:
            assert resp.status == 200
    text = metrics.exposition().decode()
    s = parse(text)
    # THEN two disclosures under the tier and purpose, nothing else about the requester
    assert value(s, "rdds_disclosures_total", tier=LE, purpose=CRIME) == 2
    assert value(s, "rdds_answer_cache_misses_total", frontend="rdap") == 1  # public only
    assert "Example Police" not in text and "cred-" not in text and token not in text


MULTIPROCESS_WORKER = """
import sys
from core.metrics import Metrics
m = Metrics()
for _ in range(int(sys.argv[1])):
    m.request("rdap", "domain", 200, 0.002)
m.observe_connections("rdap", int(sys.argv[1]))
if len(sys.argv) > 2:
    sys.stdout.write(m.exposition().decode())
"""


def test_multiprocess_mode_merges_workers(tmp_path: Path) -> None:
    # GIVEN PROMETHEUS_MULTIPROC_DIR (what a --workers supervisor sets), two workers
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for count in ("3", "4"):
        subprocess.run(
            [sys.executable, "-c", MULTIPROCESS_WORKER, count], env=env, check=True, timeout=60
        )
    # WHEN a third process serves the scrape, THEN the counters are the workers' sum
    out = subprocess.run(
        [sys.executable, "-c", MULTIPROCESS_WORKER, "0", "scrape"],
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    ).stdout
    s = parse(out)
    assert value(s, "rdds_requests_total", frontend="rdap", route="domain", status="200") == 7
    assert value(s, "rdds_request_duration_seconds_count", frontend="rdap") == 7
