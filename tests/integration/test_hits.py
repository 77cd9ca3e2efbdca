"""Answer-cache hits answered below the application (`rdap.hits`), on a real server on
loopback: the same status, headers and body as the application's answer, and everything a
hit does there (rate limit, request id, client address, metrics, CORS, ETag/304, HEAD, the
access line); and what must never come from the cache (credentials, preflights, `Expect`,
the web page, the public health path).

Each served app carries one extra `on_response_prepare` hook that marks its answers: the
application's answers carry the mark, the fast path's do not (it runs no signal).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from aiohttp import web

from core import logs
from core.health import Health, HealthSettings
from core.lookup import Lookup
from core.metrics import Metrics
from core.network import parse_networks
from rdap.answers import Cached
from rdap.rates import Budget, Budgets, RatePolicy
from rdap.server import bind, bound_port, make_app, serve
from rdap.settings import RdapConfig
from rdap.state import CACHE, LOOKUP, URL_MARKER
from redaction.policy import default_policy
from replica.store import SqliteStore
from tests.integration.conftest import BASE
from web import app as web_app
from web.settings import WebConfig, WebSettings

#: The mark of an answer the application gave (its on_response_prepare hook ran).
FULL = "X-Test-Application"


async def _mark(request: web.Request, response: web.StreamResponse) -> None:
    response.headers[FULL] = "1"


@dataclass
class Served:
    port: int
    app: web.Application
    metrics: Metrics


@contextlib.asynccontextmanager
async def served(
    store: SqliteStore,
    *,
    fast: bool = True,
    config: RdapConfig | None = None,
    pages: Iterable[web.AbstractRouteDef] = (),
    health: bool = False,
) -> AsyncIterator[Served]:
    """The RDAP app served by `rdap.server.serve` on 127.0.0.1, port 0."""
    lookup = Lookup(store, default_policy())
    metrics = Metrics()
    app = make_app(
        lookup,
        config or RdapConfig(base_url=BASE, port43=None),
        pages=pages,
        metrics=metrics,
        health=Health(lookup, HealthSettings()) if health else None,
    )
    app.on_response_prepare.append(_mark)
    sockets = bind("127.0.0.1", 0)
    runner = await serve(app, sockets, fast_hits=fast)
    try:
        yield Served(bound_port(sockets), app, metrics)
    finally:
        await runner.cleanup()


@dataclass(frozen=True)
class Answer:
    status: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    @property
    def full(self) -> bool:
        """Answered by the application (not the fast path)."""
        return self.header(FULL) is not None

    def comparable(self) -> tuple[str, list[tuple[str, str]], bytes]:
        """Status, headers in order and body; the request id's and the date's values (fresh
        on every answer) and the test's mark left out."""
        headers = [
            (k, "-" if k in ("X-Request-Id", "Date") else v) for k, v in self.headers if k != FULL
        ]
        return self.status, headers, self.body


async def ask(port: int, method: str, target: str, *headers: str) -> Answer:
    """One request on its own connection; the answer as it came off the wire."""
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", *headers, "Connection: close"]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status, *rest = head.decode("latin-1").split("\r\n")
    return Answer(status, [(k, v) for k, v in (line.split(": ", 1) for line in rest)], body)


# --- the same answer ---------------------------------------------------------------------------

CASES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "domain": ("GET", "/domain/example.coop", ()),
    "coop flags": ("GET", "/domain/unverified.coop", ()),
    "IDN": ("GET", "/domain/xn--mgbh0fb.xn--mgbtx2b", ()),
    "query string": ("GET", "/domain/example.org?x=%22%5C&purpose", ()),
    "HEAD": ("HEAD", "/domain/example.coop", ()),
    "not found": ("GET", "/domain/nosuch.coop", ()),
    "nameserver": ("GET", "/nameserver/ns1.example.coop", ()),
    "registrar": ("GET", "/entity/9100", ()),
    "help": ("GET", "/help", ()),
    "other tag": ("GET", "/domain/example.coop", ('If-None-Match: "other"',)),
    "forwarded, not trusted": ("GET", "/domain/example.coop", ("X-Forwarded-For: 192.0.2.7",)),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_a_hit_is_the_applications_answer(
    store: SqliteStore, case: tuple[str, str, tuple[str, ...]]
) -> None:
    method, target, headers = case
    async with served(store, fast=True) as fast, served(store, fast=False) as full:
        # GIVEN the answer is cached on both servers (the first request is a miss)
        for s in (fast, full):
            assert (await ask(s.port, method, target, *headers)).full
        # WHEN it is asked again
        via_fast = await ask(fast.port, method, target, *headers)
        via_app = await ask(full.port, method, target, *headers)
    # THEN the fast path answered it, with the application's status, headers and body
    assert not via_fast.full and via_app.full
    assert via_fast.comparable() == via_app.comparable()
    assert re.fullmatch(r"[0-9a-f]{16}", via_fast.header("X-Request-Id") or "")
    assert via_fast.header("Access-Control-Allow-Origin") == "*"
    assert via_fast.header("ETag")


async def test_not_modified_and_head_from_the_fast_path(store: SqliteStore) -> None:
    async with served(store) as s:
        first = await ask(s.port, "GET", "/domain/example.coop")
        etag = first.header("ETag")
        assert etag
        # WHEN the client holds the answer THEN 304, no body, the same tag and caching rules
        for inm in (etag, f'"nope", W/{etag}', "*"):
            hit = await ask(s.port, "GET", "/domain/example.coop", f"If-None-Match: {inm}")
            assert not hit.full
            assert hit.status == "HTTP/1.1 304 Not Modified" and hit.body == b""
            assert hit.header("ETag") == etag
            assert hit.header("Cache-Control") == first.header("Cache-Control")
            assert hit.header("Vary") == "Authorization"
        # AND a HEAD gets the GET's headers without the body
        head = await ask(s.port, "HEAD", "/domain/example.coop")
    assert not head.full and head.status == "HTTP/1.1 200 OK" and head.body == b""
    assert head.header("Content-Length") == str(len(first.body))
    assert head.header("ETag") == etag


async def test_a_hit_spends_the_budget_and_the_429_is_the_applications(
    store: SqliteStore,
) -> None:
    budget = Budgets(Budget(0.001, 2), Budget(0.001, 2))
    config = RdapConfig(base_url=BASE, port43=None, rate=RatePolicy(anonymous=budget))
    async with served(store, config=config) as s:
        miss = await ask(s.port, "GET", "/domain/example.coop")
        hit = await ask(s.port, "GET", "/domain/example.coop")
        # WHEN the burst is spent, one by the miss and one by the hit
        refused = await ask(s.port, "GET", "/domain/example.coop")
        metrics = s.metrics
    assert miss.full and not hit.full and hit.status == "HTTP/1.1 200 OK"
    # THEN the next hit is refused by the application: RFC 9083 error, Retry-After
    assert refused.full and refused.status == "HTTP/1.1 429 Too Many Requests"
    assert refused.header("Retry-After") and refused.header("X-Request-Id")
    assert orjson.loads(refused.body)["errorCode"] == 429
    # AND counted once, the refused request not as a cache hit
    assert sample(metrics, "rdds_rate_limited_total", frontend="rdap", kind="lookup") == 1
    assert sample(metrics, "rdds_answer_cache_hits_total", frontend="rdap") == 1


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def test_hits_are_counted_as_the_application_counts_them(store: SqliteStore) -> None:
    async with served(store) as s:
        assert (await ask(s.port, "GET", "/domain/example.coop")).full
        for _ in range(3):
            assert not (await ask(s.port, "GET", "/domain/example.coop")).full
        assert (await ask(s.port, "GET", "/domain/nosuch.coop")).full
        assert not (await ask(s.port, "GET", "/domain/nosuch.coop")).full
        m = s.metrics
    assert sample(m, "rdds_answer_cache_hits_total", frontend="rdap") == 4
    assert sample(m, "rdds_answer_cache_misses_total", frontend="rdap") == 2
    ok = {"frontend": "rdap", "route": "domain", "status": "200"}
    assert sample(m, "rdds_requests_total", **ok) == 4
    assert sample(m, "rdds_requests_total", **{**ok, "status": "404"}) == 2
    assert sample(m, "rdds_request_duration_seconds_count", frontend="rdap") == 6


# --- the access line ---------------------------------------------------------------------------


@contextlib.contextmanager
def access_lines(fmt: str) -> Iterator[io.StringIO]:
    """The access log's lines, formatted as `[log] format = fmt` formats them, through a plain
    stream handler (the setup the direct writer of `core.logs` serves)."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.formatter(fmt))
    logger = logging.getLogger("aiohttp.access")
    old = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # the test runner's capturing handler is not a plain one
    try:
        yield out
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old[0])
        logger.propagate = old[1]


async def wait_lines(out: io.StringIO, count: int) -> list[str]:
    # The access line is written after the answer is sent: wait (bounded) for it.
    for _ in range(200):
        lines = out.getvalue().splitlines()
        if len(lines) >= count:
            return lines
        await asyncio.sleep(0.01)
    return out.getvalue().splitlines()


TEXT_LINE = re.compile(
    r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO aiohttp\.access: (\S+) GET /domain 200 [\d.]+ms"
)


@pytest.mark.parametrize("fmt", ["text", "json"])
async def test_a_hits_access_line(store: SqliteStore, fmt: str) -> None:
    # GIVEN a trusted proxy in front
    config = RdapConfig(base_url=BASE, port43=None, trusted_proxies=parse_networks(["127.0.0.1"]))
    forwarded = "X-Forwarded-For: 192.0.2.7"
    made: list[str] = []
    factory = logging.getLogRecordFactory()

    def counting(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        made.append(record.name)
        return record

    logging.setLogRecordFactory(counting)
    try:
        with access_lines(fmt) as out:
            async with served(store, config=config) as s:
                await ask(s.port, "GET", "/domain/example.coop", forwarded)
                hit = await ask(s.port, "GET", "/domain/example.coop", forwarded)
                lines = await wait_lines(out, 2)
    finally:
        logging.setLogRecordFactory(factory)
    assert not hit.full and len(lines) == 2
    # AND, the handler being a plain stream handler, no LogRecord was made for them
    assert "aiohttp.access" not in made
    # THEN the hit's line is the miss's but for time and request id: the forwarded client,
    # truncated, and the request id of the answer
    if fmt == "text":
        matches = [TEXT_LINE.fullmatch(line) for line in lines]
        assert all(matches), lines
        assert [m.group(1) for m in matches if m] == ["192.0.2.0/24"] * 2
        return
    records: list[dict[str, Any]] = [json.loads(line) for line in lines]
    for r in records:
        assert r["time"].endswith("Z") and r["level"] == "info" and r["logger"] == "aiohttp.access"
        assert (r["frontend"], r["route"], r["status"], r["method"]) == (
            "rdap",
            "domain",
            200,
            "GET",
        )
        assert r["client"] == "192.0.2.0/24" and r["duration_ms"] >= 0
    assert records[1]["request_id"] == hit.header("X-Request-Id")
    assert "example" not in out.getvalue() and "192.0.2.7" not in out.getvalue()


# --- never from the cache ----------------------------------------------------------------------


async def test_a_request_with_credentials_is_never_answered_from_the_cache(
    store: SqliteStore,
) -> None:
    async with served(store) as s:
        await ask(s.port, "GET", "/domain/example.coop")
        # WHEN the cached name is asked with a credential
        got = await ask(s.port, "GET", "/domain/example.coop", "Authorization: Bearer x")
        hits = sample(s.metrics, "rdds_answer_cache_hits_total", frontend="rdap")
    # THEN the application identifies the requester and answers, not from the cache
    assert got.full and got.status == "HTTP/1.1 200 OK"
    assert hits == 0


async def test_preflight_and_expect_go_to_the_application(store: SqliteStore) -> None:
    async with served(store) as s:
        await ask(s.port, "GET", "/domain/example.coop")
        preflight = await ask(
            s.port,
            "OPTIONS",
            "/domain/example.coop",
            "Origin: https://page.example",
            "Access-Control-Request-Method: GET",
        )
        expect = await ask(s.port, "GET", "/domain/example.coop", "Expect: 100-continue")
    assert preflight.full and preflight.status == "HTTP/1.1 204 No Content"
    assert preflight.header("Access-Control-Allow-Methods") == "GET, HEAD"
    # aiohttp's application answers `Expect: 100-continue` with an interim 100 first.
    assert expect.status == "HTTP/1.1 100 Continue"


def _plant(app: web.Application, *paths: str) -> None:
    """Put an answer no route gives into the cache under `paths`, as if they were RDAP's."""
    marker = app[URL_MARKER]
    generation = app[LOOKUP].generation
    for path in paths:
        app[CACHE].put((generation, path), Cached.split(200, b'{"planted":true}', marker))


async def test_web_page_and_health_path_never_come_from_the_cache(store: SqliteStore) -> None:
    lookup = Lookup(store, default_policy())
    site = web_app.Site(lookup, WebConfig(base_url=BASE, settings=WebSettings(), prefix="/"))
    config = RdapConfig(base_url=BASE, port43=None, health_path="/_lb")
    async with served(store, config=config, pages=site.routes(), health=True) as s:
        paths = ("/", "/lookup", "/static/page.css", "/_lb/healthz", "/_lb/readyz")
        # GIVEN answers in the cache under the web page's and the health path's paths
        _plant(s.app, *paths)
        got = {p: await ask(s.port, "GET", p) for p in paths}
    # THEN the page and the health checks answer, never the cache
    for path, answer in got.items():
        assert answer.full, path
        assert b"planted" not in answer.body, path
    assert (got["/lookup"].header("Content-Type") or "").startswith("text/html")
    assert got["/_lb/healthz"].header("Cache-Control") == "no-store"
