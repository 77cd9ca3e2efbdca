"""HTTP caching of anonymous RDAP answers (RFC 9110 §8.8.3, §13.1.2; RFC 9111) and the
answer cache behind it: byte-bounded, keyed on the normalised request, request URL spliced."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.lookup import Lookup
from rdap.server import make_app
from rdap.settings import RdapConfig
from rdap.state import CACHE
from redaction.policy import default_policy
from replica.store import SqliteStore
from tests.integration.conftest import BASE, SHOWCASE

Client = TestClient[Any, Any]
MakeClient = Callable[..., Awaitable[Client]]


async def _client(store: SqliteStore, aiohttp_client: MakeClient, **config: Any) -> Client:
    app = make_app(
        Lookup(store, default_policy()), RdapConfig(base_url=BASE, port43=None, **config)
    )
    return await aiohttp_client(app)


async def test_etag_cache_control_and_304(rdap: Client) -> None:
    async with rdap.get("/domain/example.coop") as resp:
        assert resp.status == 200
        etag = resp.headers["ETag"]
        assert resp.headers["Cache-Control"] == "public, max-age=300"
        assert etag.startswith('"') and len(etag) > 8
    for inm in (etag, f'"nope", W/{etag}', "*"):
        async with rdap.get("/domain/example.coop", headers={"If-None-Match": inm}) as resp:
            assert resp.status == 304, inm
            assert await resp.read() == b""
            assert resp.headers["ETag"] == etag
            assert resp.headers["Cache-Control"] == "public, max-age=300"
            assert resp.headers["Access-Control-Allow-Origin"] == "*"
            assert resp.headers["Vary"] == "Authorization"
            assert "ETag" in resp.headers["Access-Control-Expose-Headers"]
    async with rdap.get("/domain/example.coop", headers={"If-None-Match": '"other"'}) as resp:
        assert resp.status == 200 and resp.headers["ETag"] == etag
    # The first answer, a miss, already carries the same tag as every hit.
    rdap.app[CACHE].clear()
    async with rdap.get("/domain/example.coop", headers={"If-None-Match": etag}) as resp:
        assert resp.status == 304


async def test_not_found_is_cached_briefly_and_max_age_configurable(
    store: SqliteStore, aiohttp_client: MakeClient
) -> None:
    client = await _client(store, aiohttp_client, max_age=120)
    async with client.get("/domain/nosuch.coop") as resp:
        assert resp.status == 404 and resp.headers["Cache-Control"] == "public, max-age=60"
        assert "ETag" in resp.headers
    async with client.get("/domain/example.coop") as resp:
        assert resp.headers["Cache-Control"] == "public, max-age=120"
    async with client.get("/domain/not a name") as resp:  # a 400: not cacheable
        assert resp.status == 400 and "ETag" not in resp.headers


@pytest.mark.parametrize("name", SHOWCASE)
async def test_a_hit_is_byte_identical_to_a_fresh_render(rdap: Client, name: str) -> None:
    cache = rdap.app[CACHE]
    for tail in ("", '?x=%22%5C&y="q"&z=%E2%80%A8', "?purpose"):
        cache.clear()
        async with rdap.get(f"/domain/{name}{tail}") as resp:
            fresh, fresh_tag = await resp.read(), resp.headers["ETag"]
        async with rdap.get(f"/domain/{name}{tail}") as resp:
            assert await resp.read() == fresh and resp.headers["ETag"] == fresh_tag
        assert len(cache) == 1
    # The echoed request URL is this request's, query string included.
    async with rdap.get(f"/domain/{name}?other=1") as resp:
        assert f'"value":"{BASE}domain/{name}?other=1"'.encode() in await resp.read()


async def test_unknown_parameters_make_no_entries(rdap: Client) -> None:
    cache = rdap.app[CACHE]
    cache.clear()
    for i in range(50):
        async with rdap.get(f"/domain/example.coop?utm={i}&cb={i * 7}") as resp:
            assert resp.status == 200
    async with rdap.get("/entity/9100?junk=1") as resp:
        assert resp.status == 200
    assert len(cache) == 2


async def test_hostile_query_strings_stay_within_the_byte_bound(
    store: SqliteStore, aiohttp_client: MakeClient
) -> None:
    bound = 256 * 1024
    client = await _client(store, aiohttp_client, cache_bytes=bound)
    cache = client.app[CACHE]
    pad = "a" * 3000
    for i in range(300):
        # Long query strings (echoed in the body), distinct paths and distinct names.
        async with client.get(f"/domain/n{i}{pad[:55]}.coop?q={pad}{i}") as resp:
            assert resp.status == 404
        async with client.get(f"/domain/example.coop?q={pad}{i}") as resp:
            assert resp.status == 200
        assert cache.size <= bound
    assert 0 < len(cache) < 300
