"""The composition root with the web page: `rdds serve`'s start puts the page beside RDAP
on one port, points withheld emails (RDAP contact-uri and the WHOIS email line) at the
contact form when SMTP is configured, and leaves `/` to RDAP when the page is off."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import orjson
import pytest

from rdds import config, service
from tests.web_support import free_port, settings_text


@pytest.fixture
async def running(
    demo_replica: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[service.Running]:
    text = request.param if isinstance(request.param, str) else ""
    text = text.replace("RELAY", str(tmp_path / "relay.jsonl"))
    s = config.parse(text)
    port = free_port()
    s = replace(
        s,
        replica=demo_replica,
        rdap=replace(s.rdap, port=port, base_url=f"http://127.0.0.1:{port}/"),
        whois=replace(s.whois, port=0),
        metrics=replace(s.metrics, port=0),  # never the default 9108: another rdds may hold it
    )
    r = await service.start(s)
    try:
        yield r
    finally:
        await r.close()


async def get(r: service.Running, path: str) -> tuple[int, str, bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{r.rdap_port}{path}") as resp,
    ):
        return resp.status, resp.content_type, await resp.read()


async def whois(r: service.Running, query: str) -> str:
    assert r.whois_port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", r.whois_port)
    writer.write(query.encode() + b"\r\n")
    await writer.drain()
    out = await reader.read()
    writer.close()
    await writer.wait_closed()
    return out.decode()


FORM = settings_text(2525, Path("RELAY"))


@pytest.mark.parametrize("running", [FORM], indirect=True)
async def test_form_url_everywhere(running: service.Running) -> None:
    base = f"http://127.0.0.1:{running.rdap_port}/"
    url = base + "contact?domain=example.org&role=registrant"
    status, media, body = await get(running, "/")
    assert status == 200 and media == "text/html"
    status, media, body = await get(running, "/domain/example.org")
    assert media == "application/rdap+json"
    doc = orjson.loads(body)
    (reg,) = [e for e in doc["entities"] if e.get("roles") == ["registrant"]]
    assert ["contact-uri", {}, "uri", url] in reg["vcardArray"][1]
    assert f"Registrant Email: {url}" in await whois(running, "example.org")
    status, _, body = await get(running, "/lookup?q=example.org")
    assert status == 200 and url.replace("&", "&amp;").encode() in body
    status, _, body = await get(running, "/contact?domain=example.org&role=registrant")
    assert status == 200 and b'name="token"' in body


@pytest.mark.parametrize("running", [""], indirect=True)
async def test_page_on_form_off(running: service.Running) -> None:
    status, media, _ = await get(running, "/")
    assert status == 200 and media == "text/html"
    _, _, body = await get(running, "/domain/example.org")
    doc = orjson.loads(body)
    (reg,) = [e for e in doc["entities"] if e.get("roles") == ["registrant"]]
    uris = [p[3] for p in reg["vcardArray"][1] if p[0] == "contact-uri"]
    assert uris == ["https://www.alder-registrar.example"]  # the registrar, as before
    status, _, _ = await get(running, "/contact?domain=example.org&role=registrant")
    assert status == 404


@pytest.mark.parametrize("running", ["[web]\nenabled = false\n"], indirect=True)
async def test_page_off(running: service.Running) -> None:
    for path in ("/", "/lookup?q=example.org", "/static/site.css"):
        status, media, body = await get(running, path)
        assert status == 400 and media == "application/rdap+json", path
        assert orjson.loads(body)["errorCode"] == 400
