"""Hostile values imported through an escrow deposit are escaped on every page: shown as
text, never as markup, and a `javascript:` URL is never a link."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from markupsafe import escape

from core.lookup import Lookup
from rdap.server import make_app
from rdap.settings import RdapConfig
from redaction.policy import default_policy
from replica.store import SqliteStore, open_store
from tests import web_hostile
from web import app as web_app
from web.settings import WebConfig

Client = TestClient[Any, Any]
BASE = "http://127.0.0.1/"


@pytest.fixture
async def hostile(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = await open_store(web_hostile.write(tmp_path), pool_size=1)
    try:
        yield store
    finally:
        await store.close()


@pytest.mark.parametrize(
    "q", ["suspended.example", "example1.example", "RegistrarX", "ns1.example1.example"]
)
async def test_markup_is_text(
    hostile: SqliteStore, aiohttp_client: Callable[..., Awaitable[Client]], q: str
) -> None:
    lookup = Lookup(hostile, default_policy())
    site = web_app.Site(lookup, WebConfig(base_url=BASE))
    client = await aiohttp_client(
        make_app(lookup, RdapConfig(base_url=BASE, port43=None), pages=site.routes())
    )
    async with client.get("/lookup", params={"q": q}) as resp:
        assert resp.status == 200, q
        text = await resp.text()
    for value in web_hostile.HOSTILE:
        assert value not in text or value == web_hostile.REGISTRAR_URL
    assert "<script>alert" not in text and "<img" not in text and "<b onmouseover" not in text
    assert "<form action=https://evil" not in text
    assert 'href="javascript:' not in text
    assert str(escape(web_hostile.REGISTRAR)) in text  # shown, as text
    if q == "suspended.example":  # a verified organisation: its org, street and city show
        for value in (web_hostile.ORG, web_hostile.STREET, web_hostile.CITY):
            assert str(escape(value)) in text
