"""Metrics: the whole service on loopback, a scripted mix of RDAP and WHOIS requests, then
a scrape of the operations listener parsed with prometheus-client's own parser."""

from __future__ import annotations

import asyncio
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
from core import fleet
from core.lookup import Lookup
from core.metrics import Metrics
from rdap.observe import ROUTES
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


#: Every label a metric may carry, and the values each may take (closed sets: nothing a
#: client sent). `tier` and `purpose` come from the operator's policy: checked per test.
LABELS: dict[str, frozenset[str] | None] = {
    "frontend": frozenset({"rdap", "whois"}),
    "route": ROUTES | {"health", "other", "invalid", "address", "registrar"},
    "kind": frozenset({"lookup", "search"}),
    "cap": frozenset({"total", "per_network"}),
    "outcome": frozenset({"applied", "refused"}),
    "status": None,  # three digits or "other"
    "le": None,  # histogram buckets
    "tier": None,
    "purpose": None,
}


def assert_closed_labels(
    text: str, tiers: frozenset[str] | set[str] = frozenset(), purposes: Any = frozenset()
) -> None:
    """No label holds a name, handle, token or address: every label and every value is one
    of a closed set (or a policy tier or purpose the test configured)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            for label, v in sample.labels.items():
                assert label in LABELS, (sample.name, label)
                allowed = LABELS[label]
                if label == "status":
                    assert v == "other" or (len(v) == 3 and v.isdigit()), (sample.name, v)
                elif label == "le":
                    assert v == "+Inf" or float(v) > 0, (sample.name, v)
                elif label == "tier":
                    assert v in tiers, (sample.name, v)
                elif label == "purpose":
                    assert v in purposes or v == "-", (sample.name, v)
                else:
                    assert allowed is not None and v in allowed, (sample.name, label, v)


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
    assert value(s, "rdds_rate_limited_total", frontend="whois", kind="lookup") == 1
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
    assert_closed_labels(text)


async def _http(
    port: int, source: str, path: str, *, keep: bool = False
) -> tuple[Any, Any, int | None]:
    """One GET from `source` (kept alive with `keep`; else the server closes, and so frees
    its connection slot before we read the end): the streams and the status (None: the
    server closed the connection without an answer, as a connection cap does)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    close = "" if keep else "Connection: close\r\n"
    writer.write(f"GET {path} HTTP/1.1\r\nHost: rdap.registry.example\r\n{close}\r\n".encode())
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    except (asyncio.IncompleteReadError, ConnectionResetError):
        return reader, writer, None
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    await asyncio.wait_for(reader.readexactly(length), 10)
    if not keep:
        assert await asyncio.wait_for(reader.read(), 10) == b""  # the server closed
    return reader, writer, int(head.split(b" ", 2)[1])


async def test_rate_limits_and_connection_caps_are_counted_by_kind(demo_replica: Path) -> None:
    """GIVEN RDAP budgets of 2 lookups and 1 search, 2 RDAP and 1 WHOIS connection per
    client network, WHEN a client spends past each of them, THEN every refusal is counted
    under its front-end and budget or cap, and nothing else.

    Mutation that fails this: dropping the `limited` call in `rdap.limits.check`, or the
    `refused` call in `RdapProtocol.connection_made`."""
    s = settings_for(demo_replica, max_per_address=1, read_timeout=60.0)
    rdap_settings = replace(
        s.rdap,
        rate_burst=2,
        rate_per_second=0.0001,
        search_rate_burst=1,
        search_rate_per_second=0.0001,
        max_per_address=2,
        header_timeout=60.0,
        keepalive_timeout=60.0,
    )
    r = await service.start(replace(s, rdap=rdap_settings))
    held: list[Any] = []
    try:
        port = r.rdap_port
        lookups = [(await _http(port, "127.0.0.2", "/domain/example.org")) for _ in range(4)]
        searches = [(await _http(port, "127.0.0.3", "/domains?name=exam*.org")) for _ in range(3)]
        for _, writer, _ in [*lookups, *searches]:
            writer.close()
        assert [status for *_, status in lookups] == [200, 200, 429, 429]
        assert [status for *_, status in searches] == [200, 429, 429]
        # Connection caps: two kept-alive connections from one network, then two refused.
        capped = [await _http(port, "127.0.0.4", "/help", keep=True) for _ in range(4)]
        held += [writer for _, writer, _ in capped]
        assert [status for *_, status in capped] == [200, 200, None, None]
        # WHOIS: one connection per network; the second is refused with one line.
        assert r.whois_port is not None
        _, first = await asyncio.open_connection(
            "127.0.0.1", r.whois_port, local_addr=("127.0.0.5", 0)
        )
        held.append(first)
        reader, second = await asyncio.open_connection(
            "127.0.0.1", r.whois_port, local_addr=("127.0.0.5", 0)
        )
        second.write(b"example.org\r\n")
        refused = await asyncio.wait_for(reader.read(), 10)
        second.close()
        assert b"too many open connections" in refused.lower()
        assert r.metrics_port is not None
        text = await scrape(r.metrics_port)
    finally:
        for writer in held:
            writer.close()
        await r.close()
    s_ = parse(text)
    limited = "rdds_rate_limited_total"
    assert value(s_, limited, frontend="rdap", kind="lookup") == 2
    assert value(s_, limited, frontend="rdap", kind="search") == 2
    assert value(s_, limited, frontend="whois", kind="lookup") == 0
    refused_total = "rdds_connections_refused_total"
    assert value(s_, refused_total, frontend="rdap", cap="per_network") == 2
    assert value(s_, refused_total, frontend="whois", cap="per_network") == 1
    assert value(s_, refused_total, frontend="rdap", cap="total") == 0
    assert value(s_, "rdds_requests_total", frontend="rdap", route="domain", status="429") == 2
    assert value(s_, "rdds_requests_total", frontend="rdap", route="domains", status="429") == 2
    assert "127.0.0" not in text
    assert_closed_labels(text)


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
    assert_closed_labels(text, tiers={LE}, purposes={CRIME})


MULTIPROCESS_WORKER = """
import os, sys
from core.metrics import Metrics
m = Metrics()
for _ in range(int(sys.argv[1])):
    m.request("rdap", "domain", 200, 0.002)
m.observe_connections("rdap", int(sys.argv[1]))
if len(sys.argv) > 2:
    sys.stdout.write(m.exposition().decode())
else:
    sys.stdout.write(str(os.getpid()))
"""


def test_multiprocess_mode_merges_workers(tmp_path: Path) -> None:
    # GIVEN PROMETHEUS_MULTIPROC_DIR (what a --workers supervisor sets), two workers
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    pids = [
        int(
            subprocess.run(
                [sys.executable, "-c", MULTIPROCESS_WORKER, count],
                env=env,
                check=True,
                timeout=60,
                capture_output=True,
                text=True,
            ).stdout
        )
        for count in ("3", "4")
    ]

    def scrape_merged() -> Samples:
        out = subprocess.run(
            [sys.executable, "-c", MULTIPROCESS_WORKER, "0", "scrape"],
            env=env,
            check=True,
            timeout=60,
            capture_output=True,
            text=True,
        ).stdout
        return parse(out)

    # WHEN a third process serves the scrape, THEN the counters are the workers' sum
    s = scrape_merged()
    assert value(s, "rdds_requests_total", frontend="rdap", route="domain", status="200") == 7
    assert value(s, "rdds_request_duration_seconds_count", frontend="rdap") == 7
    assert value(s, "rdds_open_connections", frontend="rdap") == 7  # livesum: 3 + 4 + 0
    # WHEN the first worker is declared dead (what the supervisor does when one dies)
    fleet.forget(tmp_path, pids[0])
    # THEN its counts stay in the totals (prometheus-client keeps counter and histogram
    # files) and only its live gauges leave the sums
    s = scrape_merged()
    assert value(s, "rdds_requests_total", frontend="rdap", route="domain", status="200") == 7
    assert value(s, "rdds_request_duration_seconds_count", frontend="rdap") == 7
    assert value(s, "rdds_open_connections", frontend="rdap") == 4
    assert (tmp_path / f"counter_{pids[0]}.db").exists()
    assert not list(tmp_path.glob(f"gauge_*_{pids[0]}.db"))
