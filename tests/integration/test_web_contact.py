"""The contact form end to end against a real SMTP server on loopback: the message reaches
the contact's address, the person who wrote never sees it, every relay is recorded without
the message, limits hold, forged and replayed forms are refused, and nothing is sent when the
record cannot be written."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import DummyCookieJar
from aiohttp.test_utils import TestClient

from rdap.server import make_app
from rdap.settings import RdapConfig
from replica.store import SqliteStore
from tests.web_support import BASE, Inbox, build, cookie_of, form_token, inbox, settings_text
from web import app as web_app

__all__ = ["inbox"]  # the fixture

Client = TestClient[Any, Any]
MakeClient = Callable[..., Awaitable[Client]]
RDAP = RdapConfig(base_url=BASE, port43="whois.registry.example")
#: The demo's example.org registrant (a natural person): this address must never be shown.
HIDDEN = "exorg-1@mail.example"
WRITER = "writer@mail.example"


async def make(
    store: SqliteStore, aiohttp_client: MakeClient, inbox: Inbox, tmp_path: Path, extra: str = ""
) -> tuple[Client, web_app.Site]:
    lookup, site = build(store, settings_text(inbox.port, tmp_path / "relay.jsonl", extra))
    # No cookie jar: each test sends exactly the cookies it means to.
    app = make_app(lookup, RDAP, pages=site.routes())
    return await aiohttp_client(app, cookie_jar=DummyCookieJar()), site


async def open_form(
    client: Client, domain: str = "example.org", role: str = "registrant"
) -> tuple[str, str]:
    async with client.get(f"/contact?domain={domain}&role={role}") as resp:
        text = await resp.text()
        assert resp.status == 200, text[:400]
        assert HIDDEN not in text
        cookie = resp.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/contact" in cookie
        return form_token(text), cookie_of(resp.headers)


def fields(token: str, **kw: str) -> dict[str, str]:
    out = {
        "domain": "example.org",
        "role": "registrant",
        "token": token,
        "sender": WRITER,
        "subject": "About your domain",
        "message": "Hello,\nI would like to buy example.org.\nRegards",
    }
    out.update(kw)
    return out


async def send(
    client: Client, data: dict[str, str], cookie: str, **headers: str
) -> tuple[int, str]:
    async with client.post("/contact", data=data, headers={"Cookie": cookie, **headers}) as resp:
        return resp.status, await resp.text()


def records(tmp_path: Path) -> list[dict[str, str]]:
    path = tmp_path / "relay.jsonl"
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


async def test_message_reaches_the_contact_and_the_writer_never_sees_the_address(
    store: SqliteStore, aiohttp_client: MakeClient, inbox: Inbox, tmp_path: Path
) -> None:
    client, _ = await make(store, aiohttp_client, inbox, tmp_path)
    # GIVEN the lookup page, whose withheld email points at the form
    async with client.get("/lookup?q=example.org") as resp:
        text = await resp.text()
    assert 'href="http://127.0.0.1/contact?domain=example.org&amp;role=registrant"' in text
    assert HIDDEN not in text
    # WHEN the writer sends the form
    token, cookie = await open_form(client)
    status, text = await send(client, fields(token), cookie)
    # THEN the answer names no address, and the message arrived at the contact's
    assert status == 200 and "Message sent" in text and HIDDEN not in text
    (got,) = inbox.messages
    assert got.rcpt_tos == [HIDDEN]
    assert got.mail_from == "contact-form@registry.example"  # bounces come back to us
    msg = got.message
    assert msg["To"] == HIDDEN and msg["Reply-To"] == WRITER
    assert msg["From"] == "Registry contact form <contact-form@registry.example>"
    assert msg["Subject"] == "[example.org] About your domain"
    body = msg.get_content()
    assert "I would like to buy example.org." in body and "not shown to the sender" in body
    # AND the relay record holds the facts, not the message nor the writer's address
    (rec,) = records(tmp_path)
    assert rec["domain"] == "example.org" and rec["role"] == "registrant"
    assert rec["result"] == "accepted" and len(rec["sender_hash"]) == 64
    assert rec["client"] == "127.0.0.0/24" and rec["time"].endswith("Z")
    raw = (tmp_path / "relay.jsonl").read_text()
    assert WRITER not in raw and "buy" not in raw and HIDDEN not in raw
    assert os.stat(tmp_path / "relay.jsonl").st_mode & 0o077 == 0


async def test_rdap_and_whois_point_at_the_form(
    store: SqliteStore, aiohttp_client: MakeClient, inbox: Inbox, tmp_path: Path
) -> None:
    client, _ = await make(store, aiohttp_client, inbox, tmp_path)
    async with client.get("/domain/example.org") as resp:
        doc = orjson.loads(await resp.read())
    (reg,) = [e for e in doc["entities"] if e.get("roles") == ["registrant"]]
    uris = [p[3] for p in reg["vcardArray"][1] if p[0] == "contact-uri"]
    assert uris == ["http://127.0.0.1/contact?domain=example.org&role=registrant"]


async def test_csrf_and_forged_forms_are_refused(
    store: SqliteStore, aiohttp_client: MakeClient, inbox: Inbox, tmp_path: Path
) -> None:
    client, _ = await make(store, aiohttp_client, inbox, tmp_path)
    token, cookie = await open_form(client)
    _, other_cookie = await open_form(client)
    refused = [
        (fields(token), ""),  # no cookie: a post from another site's page
        (fields(token), "rdds_form=" + "x" * 24),  # another browser's cookie
        (fields(token, domain="consent.org"), cookie),  # the token names another domain
        (fields(token, role="tech"), cookie),  # ... another role
        (fields("1." + "a" * 24 + ".forged"), cookie),
        (fields(""), cookie),
    ]
    assert other_cookie != cookie
    refused.append((fields(token), other_cookie))
    for data, jar in refused:
        status, text = await send(client, data, jar)
        assert status in (403, 404), (data, status)
        assert HIDDEN not in text
    status, text = await send(client, fields(token), cookie, Origin="https://evil.example")
    assert status == 403 and "own page" in text
    status, _ = await send(client, fields(token), cookie, **{"Sec-Fetch-Site": "cross-site"})
    assert status == 403
    assert inbox.messages == [] and records(tmp_path) == []
    # The genuine form still works, once.
    # Our own page under Referrer-Policy: no-referrer posts with `Origin: null`.
    status, _ = await send(client, fields(token), cookie, Origin="null")
    assert status == 200
    status, text = await send(client, fields(token), cookie)
    assert status == 409 and "already been sent" in text
    assert len(inbox.messages) == 1


async def test_limits_per_sender_recipient_and_network(
    store: SqliteStore, aiohttp_client: MakeClient, inbox: Inbox, tmp_path: Path
) -> None:
    client, _ = await make(
        store,
        aiohttp_client,
        inbox,
        tmp_path,
        "messages_per_sender_per_day = 2\nmessages_per_recipient_per_day = 3\n"
        "messages_per_network_per_hour = 4\n",
    )

    async def one(sender: str, domain: str = "example.org") -> int:
        token, cookie = await open_form(client, domain)
        status, _ = await send(client, fields(token, sender=sender, domain=domain), cookie)
        return status

    assert [await one("a@mail.example") for _ in range(3)] == [200, 200, 429]  # per sender
    assert await one("b@mail.example") == 200
    assert await one("c@mail.example") == 429  # per recipient: 3 reached example.org's
    assert await one("d@mail.example", "journalist.org") == 429  # per network: 4 an hour
    assert len(inbox.messages) == 3


async def test_size_and_content_limits_keep_what_was_typed(
    store: SqliteStore, aiohttp_client: MakeClient, inbox: Inbox, tmp_path: Path
) -> None:
    client, _ = await make(store, aiohttp_client, inbox, tmp_path, "max_message_chars = 100\n")
    token, cookie = await open_form(client)
    status, text = await send(client, fields(token, message="y" * 101), cookie)
    assert status == 413 and "longer than 100 characters" in text and "y" * 101 in text
    status, text = await send(client, fields(form_token(text), sender="not an address"), cookie)
    assert status == 400 and "Enter your email address" in text
    status, text = await send(client, fields(form_token(text), subject=""), cookie)
    assert status == 400 and "Enter a subject" in text
    async with client.post(
        "/contact", data=fields(token, message="z" * 40_000), headers={"Cookie": cookie}
    ) as resp:
        assert resp.status == 413 and resp.content_type == "text/html"
    assert inbox.messages == []


async def test_header_injection_stays_in_the_subject(
    store: SqliteStore, aiohttp_client: MakeClient, inbox: Inbox, tmp_path: Path
) -> None:
    client, _ = await make(store, aiohttp_client, inbox, tmp_path)
    token, cookie = await open_form(client)
    evil = "Hi\r\nBcc: victim@mail.example\r\n\r\nbody"
    status, _ = await send(client, fields(token, subject=evil), cookie)
    assert status == 200
    (got,) = inbox.messages
    assert got.rcpt_tos == [HIDDEN] and got.message["Bcc"] is None
    assert got.message["Subject"] == "[example.org] Hi Bcc: victim@mail.example body"


async def test_expired_and_too_fast_forms_come_back_fresh(
    store: SqliteStore, aiohttp_client: MakeClient, inbox: Inbox, tmp_path: Path
) -> None:
    client, site = await make(store, aiohttp_client, inbox, tmp_path, "form_min_seconds = 5\n")
    now = [1_800_000_000.0]
    site._wall = lambda: now[0]
    token, cookie = await open_form(client)
    status, text = await send(client, fields(token), cookie)
    assert status == 400 and "too quickly" in text
    now[0] += 7200
    status, text = await send(client, fields(token), cookie)
    assert status == 400 and "expired" in text and "I would like to buy" in text
    fresh = form_token(text)
    now[0] += 10
    status, _ = await send(client, fields(fresh), cookie)
    assert status == 200 and len(inbox.messages) == 1


async def test_who_can_be_written_to(
    store: SqliteStore, aiohttp_client: MakeClient, inbox: Inbox, tmp_path: Path
) -> None:
    client, _ = await make(store, aiohttp_client, inbox, tmp_path)
    await open_form(client, "journalist.org")  # withheld: the form relays
    await open_form(client, "journalist.org", "technical")  # RDAP's role word works too
    for query, status in [
        ("domain=consent.org&role=registrant", 404),  # the address is published: write to it
        ("domain=example.org&role=billing", 404),  # no such contact
        ("domain=nothing-here.org&role=registrant", 404),
        ("domain=example.org&role=abuse", 400),
        ("domain=exa_mple.org&role=registrant", 404),
    ]:
        async with client.get("/contact?" + query) as resp:
            assert resp.status == status, query
            assert "Set-Cookie" not in resp.headers


async def test_smtp_down_is_a_friendly_503_and_recorded(
    store: SqliteStore, aiohttp_client: MakeClient, inbox: Inbox, tmp_path: Path
) -> None:
    from tests.web_support import free_port

    lookup, site = build(store, settings_text(free_port(), tmp_path / "relay.jsonl"))
    client = await aiohttp_client(
        make_app(lookup, RDAP, pages=site.routes()), cookie_jar=DummyCookieJar()
    )
    token, cookie = await open_form(client)
    status, text = await send(client, fields(token), cookie)
    assert status == 503 and "could not be delivered" in text
    assert [r["result"] for r in records(tmp_path)] == ["accepted", "failed"]


async def test_nothing_is_sent_when_the_record_cannot_be_written(
    store: SqliteStore, aiohttp_client: MakeClient, inbox: Inbox, tmp_path: Path
) -> None:
    (tmp_path / "relay.jsonl").mkdir()  # a directory where the record file should be
    client, _ = await make(store, aiohttp_client, inbox, tmp_path)
    token, cookie = await open_form(client)
    status, text = await send(client, fields(token), cookie)
    assert status == 503 and "cannot be sent right now" in text
    assert inbox.messages == []


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_other_methods(
    store: SqliteStore, aiohttp_client: MakeClient, inbox: Inbox, tmp_path: Path, method: str
) -> None:
    client, _ = await make(store, aiohttp_client, inbox, tmp_path)
    async with client.request(method, "/contact") as resp:
        assert resp.status == 405 and resp.headers["Allow"] == "GET, HEAD, POST"
