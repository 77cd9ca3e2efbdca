"""Checker client against loopback servers that each misbehave in one way (HTTP and port 43)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import pathlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from conformance import client
from conformance.findings import Finding, Severity
from conformance.rules import RULES

CORPUS = pathlib.Path(__file__).parent / "corpus"
CORPUS_BASE = "https://rdap.example.org/"
RDAP = "application/rdap+json"
FAULT = web.AppKey("fault", str)

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


def error_body(code: int, title: str) -> bytes:
    doc = {"rdapConformance": ["rdap_level_0"], "errorCode": code, "title": title}
    return json.dumps({**doc, "description": [title]}).encode()


def good_body(name: str, base: str) -> bytes:
    text = (CORPUS / "good" / f"{name}.json").read_text(encoding="utf-8")
    return text.replace(CORPUS_BASE, base).encode()


def invalid_name(name: str) -> bool:
    labels = name.rstrip(".").split(".")
    return " " in name or any(not label or len(label) > 63 for label in labels)


@web.middleware
async def misbehave(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    fault = request.app[FAULT]
    if fault == "429":
        return web.Response(
            status=429, body=error_body(429, "Too Many Requests"), content_type=RDAP
        )
    if fault == "head-mismatch" and request.method == "HEAD":
        return web.Response(
            status=405, content_type=RDAP, headers={"Access-Control-Allow-Origin": "*"}
        )
    response = await handler(request)
    if fault != "cors":
        response.headers["Access-Control-Allow-Origin"] = "*"
    if fault == "credentials":
        response.headers["Access-Control-Allow-Credentials"] = "true"
    if fault == "content-type":
        response.headers["Content-Type"] = "application/json"
    return response


async def lookup(request: web.Request) -> web.Response:
    fault = request.app[FAULT]
    base = str(request.url.origin()) + "/rdap/"
    name = request.match_info["name"]
    if fault == "not-json":
        return web.Response(body=b"<html>oops</html>", content_type=RDAP)
    if invalid_name(name):
        status = 404 if fault == "probe-400" else 400
    elif name.lower() == "example.org" and not (fault == "case" and name != "example.org"):
        return web.Response(body=good_body("domain-gtld", base), content_type=RDAP)
    else:
        status = 400 if fault == "probe-404" else 404
    return web.Response(status=status, body=error_body(status, "No"), content_type=RDAP)


async def help_page(request: web.Request) -> web.Response:
    base = str(request.url.origin()) + "/rdap/"
    return web.Response(body=good_body("help", base), content_type=RDAP)


def app(fault: str = "") -> web.Application:
    application = web.Application(middlewares=[misbehave])
    application[FAULT] = fault
    application.router.add_get("/rdap/domain/{name}", lookup)
    application.router.add_get("/rdap/help", help_page)
    return application


async def run(
    aiohttp_server: ServerFactory, fault: str, path: str = "/rdap/domain/example.org"
) -> list[Finding]:
    server = await aiohttp_server(app(fault))
    return await client.check_urls([str(server.make_url(path))], timeout=5.0)


def codes(findings: list[Finding]) -> set[str]:
    return {f.code for f in findings if f.severity is Severity.ERROR}


async def test_good_server_passes_every_check_and_probe(aiohttp_server: ServerFactory) -> None:
    # GIVEN a well-behaved server WHEN a domain and the help page are checked with probes
    server = await aiohttp_server(app())
    urls = [str(server.make_url("/rdap/domain/example.org")), str(server.make_url("/rdap/help"))]
    findings = await client.check_urls(urls, timeout=5.0)
    # THEN nothing is found
    assert findings == []


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ("content-type", "http.content-type"),
        ("cors", "gtld.cors.allow-origin"),  # the answers declare the gTLD profile
        ("credentials", "http.cors.allow-credentials"),
        ("head-mismatch", "http.head.mismatch"),
        ("429", "http.retry-after"),
        ("not-json", "json.invalid"),
        ("probe-404", "probe.not-found"),
        ("probe-400", "probe.bad-request"),
        ("case", "probe.case"),
    ],
)
async def test_misbehaving_server_yields_its_code(
    aiohttp_server: ServerFactory, fault: str, code: str
) -> None:
    findings = await run(aiohttp_server, fault)
    assert code in {f.code for f in findings}, [(f.code, f.url, f.message) for f in findings]
    # Every finding of the code carries its rule's severity and citation.
    rule = RULES[code]
    assert {(f.severity, f.rfc) for f in findings if f.code == code} == {(rule.severity, rule.cite)}


async def test_probes_can_be_turned_off(aiohttp_server: ServerFactory) -> None:
    server = await aiohttp_server(app("probe-404"))
    url = str(server.make_url("/rdap/domain/example.org"))
    assert await client.check_urls([url], probes=False, timeout=5.0) == []


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def raw_server(handle: Handler) -> AsyncIterator[int]:
    async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handle(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the checker hung up first, as it does on oversized answers
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    server = await asyncio.start_server(guarded, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def test_head_answer_with_a_body_is_reported() -> None:
    body = good_body("help", "http://127.0.0.1/rdap/")
    methods: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        methods.append((await reader.readline()).split(b" ", 1)[0])
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: {RDAP}\r\nAccess-Control-Allow-Origin: *\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        # The fault: the body follows the header block on HEAD too.
        writer.write(head + body)
        await writer.drain()

    async with raw_server(handle) as port:
        url = f"http://127.0.0.1:{port}/rdap/help"
        findings = await client.check_urls([url], probes=False, timeout=5.0)
    assert sorted(methods) == [b"GET", b"HEAD"]
    assert codes(findings) == {"http.head.body"}


async def test_silent_server_times_out() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never answers; returns when the client gives up

    async with raw_server(handle) as port:
        findings = await client.check_urls(
            [f"http://127.0.0.1:{port}/rdap/help"], probes=False, timeout=0.3
        )
    assert codes(findings) == {"net.timeout"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_connection_refused_is_a_finding_not_an_exception() -> None:
    url = f"http://127.0.0.1:{free_port()}/rdap/domain/example.org"
    findings = await client.check_urls([url], timeout=2.0)
    assert [(f.code, f.url) for f in findings] == [("net.error", url)]


def whois_handler(answer: bytes, queries: list[bytes], *, close: bool = True) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queries.append(await reader.readuntil(b"\r\n"))
        writer.write(answer)
        await writer.drain()
        if not close:
            await reader.read()

    return handle


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ((CORPUS / "whois" / "good" / "domain.txt").read_bytes(), set()),
        ((CORPUS / "whois" / "bad" / "whois.line-ending.txt").read_bytes(), {"whois.line-ending"}),
        (b"x" * (client.MAX_WHOIS + 10), {"whois.size"}),
    ],
    ids=["good", "bare-lf", "too-large"],
)
async def test_whois_server_answer_is_judged(answer: bytes, expected: set[str]) -> None:
    queries: list[bytes] = []
    async with raw_server(whois_handler(answer, queries)) as port:
        findings = await client.check_whois_server("127.0.0.1", port, "example.org", timeout=5.0)
    assert queries == [b"example.org\r\n"]  # RFC 3912: the query line ends in CR LF
    assert {f.code for f in findings} == expected
    assert all(f.url == f"whois://127.0.0.1:{port}/example.org" for f in findings)


async def test_whois_server_that_never_closes_times_out() -> None:
    answer = (CORPUS / "whois" / "good" / "domain.txt").read_bytes()
    async with raw_server(whois_handler(answer, [], close=False)) as port:
        findings = await client.check_whois_server("127.0.0.1", port, "example.org", timeout=0.3)
    assert codes(findings) == {"net.timeout"}


async def test_whois_connection_refused() -> None:
    findings = await client.check_whois_server("127.0.0.1", free_port(), "example.org", timeout=2)
    assert codes(findings) == {"net.error"}


async def test_head_on_a_keep_alive_server_does_not_hang() -> None:
    # GIVEN a server that answers HEAD correctly but ignores `Connection: close`
    body = good_body("help", "http://127.0.0.1/rdap/")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        method = (await reader.readline()).split(b" ", 1)[0]
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: {RDAP}\r\nAccess-Control-Allow-Origin: *\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        writer.write(head if method == b"HEAD" else head + body)
        await writer.drain()
        await reader.read()  # keeps the connection open until the client leaves

    async with raw_server(handle) as port:
        url = f"http://127.0.0.1:{port}/rdap/help"
        # WHEN checked with a timeout far longer than the grace period
        findings = await client.check_urls([url], probes=False, timeout=5.0)
    # THEN the HEAD answer is judged as complete and correct
    assert findings == []
