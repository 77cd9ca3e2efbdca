""".coop flags over the wire: RDAP response headers (GET, HEAD, cached), the RDAP remarks and
the WHOIS lines, for verified, unverified and never-verified registrants, on a real SQLite
replica built from the test factories and real servers on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient

from core.lookup import Lookup
from rdap.server import make_app
from rdap.settings import RdapConfig
from redaction.policy import default_policy
from replica.store import SqliteStore, open_store
from tests.conftest import COOP_REGISTRANTS, coop_records, make_contact, make_record, write_replica
from tests.whois_support import ask, running

Client = TestClient[Any, Any]
BASE = "https://rdap.registry.example/"
EXPECTED = {
    "verified.coop": ("1", "1"),
    "unverified.coop": ("1", "0"),
    "never-verified.coop": ("1", "0"),
}


@pytest.fixture(scope="module")
def coop_replica(tmp_path_factory: pytest.TempPathFactory) -> Path:
    records = [*coop_records(), make_record(make_contact(verified=True), name="plain.org")]
    return write_replica(tmp_path_factory.mktemp("coop") / "coop.sqlite", records)


@pytest.fixture
async def coop_store(coop_replica: Path) -> AsyncIterator[SqliteStore]:
    store = await open_store(coop_replica, pool_size=2)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def client(
    coop_store: SqliteStore, aiohttp_client: Callable[..., Awaitable[Client]]
) -> Client:
    app = make_app(Lookup(coop_store, default_policy()), RdapConfig(base_url=BASE, port43=None))
    return await aiohttp_client(app)


def test_the_replica_holds_every_verification_state() -> None:
    assert {f"{state}.coop" for state in COOP_REGISTRANTS} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_rdap_headers_on_get_head_and_cached_answers(client: Client, name: str) -> None:
    eligibility, verification = EXPECTED[name]
    for method in ("GET", "GET", "HEAD"):  # the second GET is served from the cache
        async with client.request(method, f"/domain/{name}") as resp:
            assert resp.status == 200
            assert resp.headers.getall("X-COOP-ELIGIBILITY") == [eligibility], method
            assert resp.headers.getall("X-COOP-VERIFICATION") == [verification], method


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_rdap_remarks_match_the_headers(client: Client, name: str) -> None:
    async with client.get(f"/domain/{name}") as resp:
        doc = orjson.loads(await resp.read())
        header = resp.headers["X-COOP-VERIFICATION"]
    (remark,) = [r for r in doc["remarks"] if r["title"] == "Registrant Eligibility"]
    assert f"X-COOP-ELIGIBILITY: {resp.headers['X-COOP-ELIGIBILITY']}" in remark["description"]
    assert f"X-COOP-VERIFICATION: {header}" in remark["description"]
    (registrant,) = [e for e in doc["entities"] if e.get("roles") == ["registrant"]]
    assert f"X-COOP-VERIFICATION: {header}" in registrant["remarks"][0]["description"]


@pytest.mark.parametrize(
    "path", ["/domain/plain.org", "/domain/nosuch.coop", "/help", "/entity/VERIFIED-1"]
)
async def test_no_coop_headers_elsewhere(client: Client, path: str) -> None:
    async with client.get(path) as resp:
        assert resp.status in (200, 404)
        assert "X-COOP-ELIGIBILITY" not in resp.headers
        assert "X-COOP-VERIFICATION" not in resp.headers


async def test_demo_showcase_headers(rdap: Client) -> None:
    # The demo's own .coop showcase: a verified and an unverified registrant.
    for name, verification in (("example.coop", "1"), ("unverified.coop", "0")):
        async with rdap.get(f"/domain/{name}") as resp:
            assert resp.status == 200
            assert resp.headers["X-COOP-ELIGIBILITY"] == "1"
            assert resp.headers["X-COOP-VERIFICATION"] == verification
            # A browser page may read them only when CORS exposes them (Fetch standard).
            exposed = {
                h.strip().lower() for h in resp.headers["Access-Control-Expose-Headers"].split(",")
            }
            assert {"x-coop-eligibility", "x-coop-verification"} <= exposed


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_whois_lines(coop_store: SqliteStore, name: str) -> None:
    eligibility, verification = EXPECTED[name]
    server = await running(Lookup(coop_store, default_policy()))
    try:
        text = (await ask(server.port, name.encode() + b"\r\n")).decode()
    finally:
        await server.close()
    lines = text.split("\r\n")
    assert f"X-COOP-ELIGIBILITY: {eligibility}" in lines
    assert f"X-COOP-VERIFICATION: {verification}" in lines
    assert (
        "Registrant Verified: yes" if verification == "1" else "Registrant Verified: no"
    ) in lines
