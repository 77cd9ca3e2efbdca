"""The web page over a real SQLite demo replica, served beside RDAP by aiohttp on loopback:
every showcase object, friendly errors with the right status, strict headers, RDAP paths
unchanged, and no withheld value in any page."""

from __future__ import annotations

import html
import re
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient

from core.lookup import Lookup
from rdap.server import make_app
from rdap.settings import RdapConfig
from redaction.fields import Field, value
from redaction.policy import Requester, default_policy
from registry import names
from replica.store import SqliteStore
from tests.web_support import BASE
from web import app as web_app
from web.settings import WebConfig, WebSettings, normalise_prefix

Client = TestClient[Any, Any]
MakeClient = Callable[..., Awaitable[Client]]
RDAP = RdapConfig(base_url=BASE, port43="whois.registry.example")


async def client_for(
    store: SqliteStore, aiohttp_client: MakeClient, settings: WebSettings | None = None
) -> Client:
    lookup = Lookup(store, default_policy())
    settings = settings or WebSettings()
    cfg = WebConfig(base_url=BASE, settings=settings, prefix=normalise_prefix(settings.prefix))
    site = web_app.Site(lookup, cfg)
    return await aiohttp_client(make_app(lookup, RDAP, pages=site.routes()))


@pytest.fixture
async def web(store: SqliteStore, aiohttp_client: MakeClient) -> Client:
    return await client_for(store, aiohttp_client)


async def page(client: Client, path: str, status: int = 200) -> str:
    async with client.get(path) as resp:
        text = await resp.text()
        assert resp.status == status, (path, resp.status, text[:300])
        assert resp.content_type == "text/html"
        return text


async def test_home_says_what_the_service_is(web: Client) -> None:
    async with web.get("/") as resp:
        assert resp.status == 200 and resp.content_type == "text/html"
        csp = resp.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src" not in csp and "unsafe-inline" not in csp
        assert resp.headers["Referrer-Policy"] == "no-referrer"
        assert "Set-Cookie" not in resp.headers  # no cookies for lookups
        text = await resp.text()
    assert '<html lang="en"' in text and "<script" not in text.lower()
    assert "Why some data is withheld" in text
    words = re.sub(r"<[^>]+>", "", text)
    for tld in (".coop", ".org", ".cx", ".gs", ".عراق", ".xn--mgbtx2b"):
        assert tld in words
    assert 'action="/lookup"' in text and 'for="q-main"' in text


async def test_rdap_paths_keep_their_media_type_whatever_accept_says(web: Client) -> None:
    for path in ("/domain/example.org", "/help", "/nameserver/ns1.example.coop", "/entity/9100"):
        async with web.get(path, headers={"Accept": "text/html,*/*;q=0.8"}) as resp:
            assert resp.status == 200 and resp.content_type == "application/rdap+json", path


async def test_root_is_rdap_400_without_the_page(
    store: SqliteStore, aiohttp_client: MakeClient
) -> None:
    plain = await aiohttp_client(make_app(Lookup(store, default_policy()), RDAP))
    async with plain.get("/", headers={"Accept": "text/html"}) as resp:
        assert resp.status == 400 and resp.content_type == "application/rdap+json"
        assert orjson.loads(await resp.read())["errorCode"] == 400
    async with plain.get("/lookup?q=example.org") as resp:
        assert resp.status == 400 and resp.content_type == "application/rdap+json"


async def test_example_org_withholds_the_person(web: Client) -> None:
    text = await page(web, "/lookup?q=example.org")
    assert "<h1" in text and "example.org" in text
    assert text.count("Withheld for privacy") >= 8 and "(Server policy)" in text
    assert "Dara Ashdown" not in text and "exorg-1@mail.example" not in text
    assert ">WA<" in text and ">US<" in text  # state/province and country are published
    assert 'href="https://rdap.registry.example/domain/example.org"' not in text
    assert f'href="{BASE}domain/example.org"' in text  # the RDAP JSON for scripts
    assert "Locked against transfer by the registrar" in text
    assert "clientTransferProhibited" in text
    assert "at risk" not in text.lower()


async def test_example_coop_badges_and_dnssec(web: Client) -> None:
    text = await page(web, "/lookup?q=EXAMPLE.COOP")
    assert ".coop eligibility: COOP (member-owned cooperative)" in text
    assert "Eligibility certified by the registrant" in text
    assert "Registrant verified by the registry" in text
    assert "Example Cooperative Ltd" in text  # a verified organisation is published
    assert "Membership Office" not in text  # ... but not a person's name in it
    assert "2371" in text and "ECDSA P-256/SHA-256" in text and "Signed" in text
    assert "45.142.220.11" in text and "2a0f:9400:7e11::53" in text  # glue


async def test_unverified_coop(web: Client) -> None:
    text = await page(web, "/lookup?q=unverified.coop")
    assert "Registrant not verified by the registry" in text and "CS (serves cooperatives)" in text
    assert "Cooperative Services Unverified Inc" not in text


async def test_consent_org_shows_what_was_consented(web: Client) -> None:
    text = await page(web, "/lookup?q=consent.org")
    assert "Lena Birchley" in text and 'href="mailto:lena.birchley@mail.example"' in text


async def test_journalist_org_shows_nothing_and_says_no_why(web: Client) -> None:
    text = await page(web, "/lookup?q=journalist.org")
    assert "Sami Calder" not in text and "journo-1@mail.example" not in text
    low = text.lower()
    assert "risk" not in low and "journalist" in low  # the name, never a reason beyond policy
    assert "(Server policy)" in text


async def test_suspended_and_pending(web: Client) -> None:
    text = await page(web, "/lookup?q=suspended.cx")
    assert "Suspended by the registry under its acceptable-use policy" in text
    assert "serverHold" in text
    text = await page(web, "/lookup?q=pending.gs")
    assert "Pending deletion — restorable through the registrar" in text
    assert "redemptionPeriod" in text and "pendingDelete" in text


async def test_idn_both_forms(web: Client) -> None:
    for q in ("مثال.عراق", "xn--mgbh0fb.xn--mgbtx2b"):
        text = await page(web, "/lookup?q=" + q)
        assert "<bdi>مثال.عراق</bdi>" in text and "<code>xn--mgbh0fb.xn--mgbtx2b</code>" in text


async def test_nameserver_registrar_and_address(web: Client) -> None:
    text = await page(web, "/lookup?q=ns1.example.coop")
    assert "Nameserver" in text and "45.142.220.11" in text and "Alder Registrar Ltd" in text
    text = await page(web, "/lookup?q=9100")
    assert "Alder Registrar Ltd" in text and "abuse@alder-registrar.example" in text
    text = await page(web, "/lookup?q=CXR1")
    assert "Registrar" in text
    text = await page(web, "/lookup?q=45.142.220.11")
    assert "1 nameserver with this address" in text and "ns1.example.coop" in text


@pytest.mark.parametrize(
    ("q", "status", "words"),
    [
        ("nothing-here.org", 404, "Nothing matches"),
        ("example.net", 404, "Nothing matches"),
        ("", 400, "Type a domain name"),
        ("exa_mple.org", 400, "characters that are not allowed"),
        ("*.org", 400, "Wildcard"),
        ("x" * 300, 400, "longer than any name"),
        ("203.0.113.99", 404, "Nothing matches"),
    ],
)
async def test_friendly_errors(web: Client, q: str, status: int, words: str) -> None:
    text = await page(web, "/lookup?q=" + q if q else "/lookup", status)
    assert words in text and "Search again" in text


async def test_not_found_echo_is_escaped(web: Client) -> None:
    text = await page(web, "/lookup?q=%3Cb%3Ex.org", 400)
    assert "<b>x.org" not in text and "&lt;b&gt;x.org" in text


async def test_methods_and_static(web: Client) -> None:
    async with web.post("/lookup", data={"q": "example.org"}) as resp:
        assert resp.status == 405 and resp.content_type == "text/html"
        assert resp.headers["Allow"] == "GET, HEAD"
    async with web.get("/static/site.css") as resp:
        assert resp.status == 200 and resp.content_type == "text/css"
        assert "Content-Security-Policy" in resp.headers
    for bad in ("/static/nope.css", "/static/..%2Fapp.py", "/static/app.py"):
        async with web.get(bad) as resp:
            assert resp.status == 404 and resp.content_type == "text/html", bad


async def test_contact_form_off_without_smtp(web: Client) -> None:
    text = await page(web, "/contact?domain=example.org&role=registrant", 404)
    assert "contact form is not available" in text
    async with web.post("/contact", data={"domain": "example.org"}) as resp:
        assert resp.status == 404


async def test_rate_limited_page(store: SqliteStore, aiohttp_client: MakeClient) -> None:
    client = await client_for(store, aiohttp_client, WebSettings(lookups_per_minute=2))
    await page(client, "/lookup?q=example.org")
    await page(client, "/lookup?q=example.org")
    async with client.get("/lookup?q=example.org") as resp:
        assert resp.status == 429 and resp.headers["Retry-After"] == "60"
        assert "Too many lookups" in await resp.text()
    await page(client, "/")  # the home page is not limited


async def test_prefix(store: SqliteStore, aiohttp_client: MakeClient) -> None:
    client = await client_for(store, aiohttp_client, WebSettings(prefix="/lookup-page"))
    text = await page(client, "/lookup-page/")
    assert 'action="/lookup-page/lookup"' in text and "/lookup-page/static/site.css" in text
    await page(client, "/lookup-page/lookup?q=example.org")
    async with client.get("/lookup-page", allow_redirects=False) as resp:
        assert resp.status == 308 and resp.headers["Location"] == "/lookup-page/"
    async with client.get("/") as resp:  # the root is RDAP's again
        assert resp.status == 400 and resp.content_type == "application/rdap+json"


def _domains(replica: Path) -> list[str]:
    conn = sqlite3.connect(f"{replica.as_uri()}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT name FROM domain ORDER BY name")]
    finally:
        conn.close()


async def test_no_withheld_value_in_any_page(
    store: SqliteStore, demo_replica: Path, aiohttp_client: MakeClient
) -> None:
    """Every domain of the demo replica: no value the engine withholds appears in its page as
    a whole word (unless another contact of the same domain shows the same value)."""
    web = await client_for(store, aiohttp_client, WebSettings(lookups_per_minute=0))
    lookup = Lookup(store, default_policy())
    checked = 0
    for ldh in _domains(demo_replica):
        rd = await lookup.domain(names.from_text(ldh), Requester.anonymous())
        text = html.unescape(await page(web, "/lookup?q=" + ldh))
        visible = {
            piece
            for view in rd.contacts
            for f in Field
            if view.shows(f)
            for piece in _pieces(value(view.contact, f))
        }
        reg = rd.record.registrar  # a business: all public (a role account may repeat it)
        visible |= {reg.name, *reg.street, reg.city, reg.pc or "", reg.voice or "", reg.email}
        for view in rd.contacts:
            for f in view.withheld:
                for piece in _pieces(value(view.contact, f)):
                    if piece in visible or f is Field.CC:
                        continue  # shown by another contact; a country code is two letters
                    word = re.compile(rf"(?<![\w.@+-]){re.escape(piece)}(?![\w@])")
                    assert not word.search(text), (ldh, f, piece)
                    checked += 1
    assert checked > 1000


def _pieces(v: str | tuple[str, ...] | None) -> tuple[str, ...]:
    return tuple(p for p in (v if isinstance(v, tuple) else (v,)) if p)
