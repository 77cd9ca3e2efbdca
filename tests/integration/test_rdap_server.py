"""RDAP over HTTP against a real replica: every route, HEAD, every error, CORS, IDN."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import shutil
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient

from conformance.check import check_response
from core.lookup import Lookup
from core.watcher import ReplicaWatcher
from rdap.cors import EXPOSED_HEADERS
from rdap.server import bind, bound_port, clear_cache, make_app, serve
from rdap.settings import RdapConfig
from rdap.state import CACHE
from redaction.policy import default_policy
from replica import schema
from replica.store import SqliteStore, open_store
from tests.integration.conftest import BASE, SHOWCASE

Client = TestClient[Any, Any]
MEDIA = "application/rdap+json"


async def get(client: Client, path: str, **kw: Any) -> tuple[int, dict[str, Any], Any]:
    async with client.get(path, **kw) as resp:
        body = await resp.read()
        return resp.status, dict(resp.headers), orjson.loads(body)


def assert_rdap_headers(headers: dict[str, Any]) -> None:
    assert headers["Content-Type"] == MEDIA
    assert_cors(headers)


def assert_cors(headers: dict[str, Any]) -> None:
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in headers
    exposed = [h.strip() for h in headers["Access-Control-Expose-Headers"].split(",")]
    assert exposed == list(EXPOSED_HEADERS)


@pytest.mark.parametrize("name", SHOWCASE)
async def test_showcase_domains_answer(rdap: Client, name: str) -> None:
    status, headers, doc = await get(rdap, f"/domain/{name}")
    assert status == 200
    assert_rdap_headers(headers)
    assert doc["objectClassName"] == "domain" and doc["ldhName"] == name
    assert doc["rdapConformance"][0] == "rdap_level_0"
    # Only example.coop has DS records in the demo (replica/demo.py showcase).
    signed = name == "example.coop"
    assert doc["secureDNS"]["delegationSigned"] is signed
    assert ("dsData" in doc["secureDNS"]) is signed
    if signed:
        (ds,) = doc["secureDNS"]["dsData"]
        assert (ds["keyTag"], ds["algorithm"], ds["digestType"]) == (2371, 13, 2)
    assert any(e["eventAction"] == "last update of RDAP database" for e in doc["events"])
    registrars = [e for e in doc["entities"] if "registrar" in e["roles"]]
    assert len(registrars) == 1


@pytest.mark.parametrize(
    "accept",
    [None, MEDIA, "application/json", "*/*", "application/rdap+json; charset=utf-8", "text/html"],
)
async def test_any_accept_gets_rdap_json(rdap: Client, accept: str | None) -> None:
    headers = {"Accept": accept} if accept else {}
    status, got, _ = await get(rdap, "/domain/example.coop", headers=headers)
    assert status == 200 and got["Content-Type"] == MEDIA


async def test_gtld_profile_members(rdap: Client) -> None:
    status, _, doc = await get(rdap, "/domain/example.org")
    assert status == 200
    assert {
        "icann_rdap_response_profile_1",
        "icann_rdap_technical_implementation_guide_1",
        "redacted",
    } <= set(doc["rdapConformance"])
    titles = [n["title"] for n in doc["notices"]]
    assert titles[:3] == ["Terms of Service", "Status Codes", "RDDS Inaccuracy Complaint Form"]
    request_url = BASE + "domain/example.org"
    for notice in doc["notices"]:
        for link in notice["links"]:
            assert link["value"] == request_url
    status_codes = doc["notices"][1]
    assert status_codes["description"] == [
        "For more information on domain status codes, please visit https://icann.org/epp"
    ]
    assert status_codes["links"][0]["rel"] == "glossary"
    assert status_codes["links"][0]["href"] == "https://icann.org/epp"
    wicf = doc["notices"][2]
    assert wicf["description"] == [
        "URL of the ICANN RDDS Inaccuracy Complaint Form: https://icann.org/wicf"
    ]
    assert (
        wicf["links"][0]["rel"] == "help" and wicf["links"][0]["href"] == "https://icann.org/wicf"
    )
    rels = {link["rel"]: link for link in doc["links"]}
    assert rels["self"]["href"] == request_url and rels["self"]["type"] == MEDIA
    assert rels["related"]["href"].endswith("/domain/example.org")
    (reg,) = [e for e in doc["entities"] if e["roles"] == ["registrar"]]
    assert reg["publicIds"] == [{"type": "IANA Registrar ID", "identifier": reg["handle"]}]
    (abuse,) = reg["entities"]
    props = {p[0]: p for p in abuse["vcardArray"][1]}
    assert props["tel"][1] == {"type": "voice"} and props["email"][3].startswith("abuse@")
    assert doc["port43"] == "whois.registry.example"


async def test_cctld_has_no_icann_profile(rdap: Client) -> None:
    _, _, doc = await get(rdap, "/domain/suspended.cx")
    assert "icann_rdap_response_profile_1" not in doc["rdapConformance"]
    assert [n["title"] for n in doc["notices"]] == ["Terms of Service"]
    assert "server hold" in doc["status"]
    assert any("acceptable use" in " ".join(r["description"]) for r in doc["remarks"])


async def test_idn_u_label_and_a_label_same_answer(rdap: Client) -> None:
    s1, _, a = await get(rdap, "/domain/xn--mgbh0fb.xn--mgbtx2b")
    s2, _, u = await get(rdap, "/domain/مثال.عراق")
    assert s1 == s2 == 200
    assert a["ldhName"] == u["ldhName"] == "xn--mgbh0fb.xn--mgbtx2b"
    assert a["unicodeName"] == u["unicodeName"] == "مثال.عراق"
    assert a["handle"] == u["handle"]


@pytest.mark.parametrize(
    "variant", ["EXAMPLE.COOP", "eXaMpLe.CoOp", "example.coop.", "Example.Coop."]
)
async def test_case_and_trailing_dot(rdap: Client, variant: str) -> None:
    _, _, lower = await get(rdap, "/domain/example.coop")
    status, _, odd = await get(rdap, f"/domain/{variant}")
    assert status == 200

    def strip(doc: Any) -> Any:
        # Only the links' `value` (the request URL as received) may differ.
        if isinstance(doc, dict):
            return {k: strip(v) for k, v in doc.items() if k != "value"}
        if isinstance(doc, list):
            return [strip(v) for v in doc]
        return doc

    assert strip(odd) == strip(lower)


async def test_head_matches_get(rdap: Client) -> None:
    for path in (
        "/domain/example.coop",
        "/domain/nope.coop",
        "/domain/bad..name",
        "/help",
        "/ip/1.2.3.4",
    ):
        async with rdap.get(path) as g:
            gbody = await g.read()
            gstatus, gheaders = g.status, g.headers
        async with rdap.head(path) as h:
            hbody = await h.read()
            assert h.status == gstatus
            assert h.headers["Content-Type"] == gheaders["Content-Type"] == MEDIA
            assert h.headers["Access-Control-Allow-Origin"] == "*"
            assert h.headers.get("Content-Length") == str(len(gbody))
            assert hbody == b""


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/domain/nosuchname.coop", 404),
        ("/domain/test.invalid", 404),
        ("/domain/not-a-domain.invalid", 404),
        ("/domain/example.com", 404),  # a TLD this deployment does not serve
        ("/domain/coop", 404),  # the TLD itself
        ("/domain/www.example.coop", 404),  # third level
        ("/domain/exa%20mple.coop", 400),
        ("/domain/exa%00mple.coop", 400),
        ("/domain/" + "a" * 64 + ".coop", 400),
        ("/domain/xn--zz.coop", 400),
        ("/domain/bad..name", 400),
        ("/domain/", 400),
        ("/domain/a/b", 400),
        ("/nameserver/ns9.nowhere.coop", 404),
        ("/nameserver/-bad-.coop", 400),
        ("/entity/NO-SUCH-HANDLE", 404),
        ("/entity/424242", 404),
        ("/entity/bad%20handle", 400),
        ("/ip/192.0.2.1", 501),
        ("/autnum/64496", 501),
        ("/domains?name=exam*.coop", 501),
        ("/nameservers?ip=192.0.2.1", 501),
        ("/entities?fn=x*", 501),
        ("/", 400),
        ("/nonsense", 400),
        ("/help/extra", 400),
    ],
)
async def test_errors(rdap: Client, path: str, status: int) -> None:
    got, headers, doc = await get(rdap, path)
    assert got == status
    assert_rdap_headers(headers)
    assert doc["errorCode"] == status
    assert isinstance(doc["title"], str) and doc["title"]
    assert isinstance(doc["description"], list) and doc["description"]
    assert doc["rdapConformance"][0] == "rdap_level_0"


async def test_method_not_allowed_is_rdap_error(rdap: Client) -> None:
    async with rdap.post("/domain/example.coop") as resp:
        assert resp.status == 405
        assert resp.headers["Content-Type"] == MEDIA
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
        assert "GET" in resp.headers["Allow"]
        assert (await resp.json(content_type=None))["errorCode"] == 405


async def test_unknown_query_parameters_are_ignored(rdap: Client) -> None:
    status, _, doc = await get(rdap, "/domain/example.coop?cachebust=123&x=y")
    assert status == 200 and doc["ldhName"] == "example.coop"


async def test_help(rdap: Client) -> None:
    # Mutations that fail this: rdap/render.py help_ dropping the "About This Service"
    # notice, or notices() linking the default instead of the configured ToS URL.
    async with rdap.get("/help") as resp:
        body = await resp.read()
        status, headers = resp.status, dict(resp.headers)
    doc = orjson.loads(body)
    assert status == 200
    assert_rdap_headers(headers)
    # RFC 9083 §7: a help answer is notices and rdapConformance, no object class.
    assert "objectClassName" not in doc
    # The demo serves gTLDs: the deployment answers under the ICANN profile.
    assert doc["rdapConformance"][:3] == [
        "rdap_level_0",
        "icann_rdap_response_profile_1",
        "icann_rdap_technical_implementation_guide_1",
    ]
    titles = [n["title"] for n in doc["notices"]]
    assert titles == [
        "Terms of Service",
        "Status Codes",
        "RDDS Inaccuracy Complaint Form",
        "About This Service",
    ]
    tos = doc["notices"][0]["links"][0]
    assert tos["rel"] == "terms-of-service" and tos["href"] == "https://registry.example/terms"
    about = doc["notices"][-1]
    assert about["links"][0]["href"] == BASE + "help" and about["links"][0]["rel"] == "self"
    assert any("/domain/NAME" in line for line in about["description"])
    # The project's own checker finds nothing wrong with it.
    assert check_response(BASE + "help", status, headers, body) == []


async def test_nameserver_with_glue(rdap: Client) -> None:
    status, _, doc = await get(rdap, "/nameserver/ns1.example.coop")
    assert status == 200
    assert doc["objectClassName"] == "nameserver" and doc["ldhName"] == "ns1.example.coop"
    assert doc["ipAddresses"]["v4"] and doc["ipAddresses"]["v6"]
    assert any(e["roles"] == ["registrar"] for e in doc["entities"])
    _, _, upper = await get(rdap, "/nameserver/NS1.EXAMPLE.COOP.")
    assert upper["ldhName"] == "ns1.example.coop"


async def test_registrar_entity_by_iana_id(rdap: Client) -> None:
    status, _, doc = await get(rdap, "/entity/9100")
    assert status == 200
    assert doc["roles"] == ["registrar"] and doc["handle"] == "9100"
    assert doc["publicIds"][0] == {"type": "IANA Registrar ID", "identifier": "9100"}


async def test_cctld_registrar_without_iana_id(rdap: Client) -> None:
    status, _, doc = await get(rdap, "/entity/CXR1")
    assert status == 200 and doc["roles"] == ["registrar"] and "publicIds" not in doc


async def test_contact_entity_is_redacted(rdap: Client) -> None:
    # A verified cooperative: its handle is public in example.coop's answer, its contact
    # person's name and email are not.
    status, _, doc = await get(rdap, "/entity/EXCOOP-1")
    assert status == 200 and doc["handle"] == "EXCOOP-1"
    body = orjson.dumps(doc).decode()
    assert "Membership Office" not in body and "members@example-cooperative.example" not in body
    assert "redacted" in doc["rdapConformance"] and doc["redacted"]


@pytest.mark.parametrize(
    ("asked", "handle", "role"),
    [
        ("/entity/excoop-1", "EXCOOP-1", None),
        ("/entity/ExCoop-1", "EXCOOP-1", None),
        ("/entity/cxr1", "CXR1", "registrar"),
        ("/entity/gsr2", "GSR2", "registrar"),
    ],
)
async def test_handles_ignore_case(rdap: Client, asked: str, handle: str, role: str) -> None:
    # Some clients lower-case every query; answers keep the stored case.
    status, _, doc = await get(rdap, asked)
    assert status == 200 and doc["handle"] == handle
    assert doc.get("roles", [None]) == [role]
    assert doc["links"][0]["href"].endswith(f"/entity/{handle}")


async def test_a_withheld_handle_is_not_confirmed(rdap: Client) -> None:
    # example.org withholds its natural-person registrant's handle: asking for it by handle
    # gets exactly the answer an unknown handle gets.
    async with rdap.get("/entity/EXORG-1") as resp:
        status, headers, body = resp.status, dict(resp.headers), await resp.read()
    async with rdap.get("/entity/EXORG-9") as resp:
        unknown_headers, unknown = dict(resp.headers), await resp.read()
    # Byte for byte, apart from the request URL that the notices' links echo.
    assert status == 404 and body == unknown.replace(b"EXORG-9", b"EXORG-1")
    async with rdap.get("/entity/exorg-1") as resp:  # in any case
        assert resp.status == 404 and await resp.read() == unknown.replace(b"EXORG-9", b"exorg-1")
    # Date and the request id differ per request by design; the ETag is a digest of the
    # body, so it differs with the echoed URL alone.
    skip = ("date", "x-request-id", "etag")
    assert {k: v for k, v in headers.items() if k.lower() not in skip} == {
        k: v for k, v in unknown_headers.items() if k.lower() not in skip
    }


async def test_no_script_text_anywhere(rdap: Client) -> None:
    for name in SHOWCASE:
        async with rdap.get(f"/domain/{name}") as resp:
            assert b"<script" not in (await resp.read()).lower()


async def test_answers_are_cached_per_generation(
    demo_replica: Path, tmp_path: Path, aiohttp_client: Callable[..., Awaitable[Client]]
) -> None:
    """GIVEN the RDAP app on its own copy of the demo replica, its cache subscribed to a
    replica watcher as the composition root wires it
    WHEN the same anonymous request comes twice, then the replica gets a new generation
    THEN the second answer is the cached one, and the new generation empties the cache.

    Mutations that fail this: rdap/handler.py not storing anonymous answers (`cache.put`
    removed), not reading them (`cache.get(key)` -> None), or rdap/server.py clear_cache
    doing nothing."""
    replica = tmp_path / "replica.sqlite"
    shutil.copyfile(demo_replica, replica)
    store = await open_store(replica, pool_size=2)
    try:
        lookup = Lookup(store, default_policy())
        app = make_app(lookup, RdapConfig(base_url=BASE, port43=None))
        watcher = ReplicaWatcher(lookup, every=3600.0)  # checked by hand below
        watcher.subscribe(lambda _generation: clear_cache(app))
        client = await aiohttp_client(app)
        cache = app[CACHE]
        generation = lookup.generation

        async with client.get("/domain/example.coop") as resp:
            first = await resp.read()
        (key,) = cache.keys()
        assert key == (generation, "/domain/example.coop")
        # Mark the stored answer: if the second request is served from the cache, it says so.
        stored = cache.get(key)
        assert stored is not None
        cache.put(key, dataclasses.replace(stored, pieces=(b'{"cached": true}',)))
        async with client.get("/domain/example.coop") as resp:
            assert await resp.read() == b'{"cached": true}'

        conn = sqlite3.connect(replica)
        with conn:
            schema.bump_generation(conn, dt.datetime(2026, 11, 23, tzinfo=dt.UTC))
        conn.close()
        assert await watcher.check() is True
        assert lookup.generation == generation + 1
        assert len(cache) == 0

        async with client.get("/domain/example.coop") as resp:
            third = orjson.loads(await resp.read())
        (key,) = cache.keys()
        assert key[0] == generation + 1
        assert third["ldhName"] == "example.coop"
        events = {e["eventAction"]: e["eventDate"] for e in third["events"]}
        assert events["last update of RDAP database"] == "2026-11-23T00:00:00Z"
        assert orjson.loads(first)["handle"] == third["handle"]
    finally:
        await store.close()


# --- requests aiohttp's HTTP parser rejects, on a real server ------------------------------

SECRET = "rdds_wireSECRETtoken0123456789"


@pytest.fixture
async def wire(store: SqliteStore) -> AsyncIterator[int]:
    """The RDAP app served by `rdap.server.serve` on 127.0.0.1, port 0; yields the port."""
    app = make_app(Lookup(store, default_policy()), RdapConfig(base_url=BASE, port43=None))
    sockets = bind("127.0.0.1", 0)
    runner = await serve(app, sockets)
    try:
        yield bound_port(sockets)
    finally:
        await runner.cleanup()


async def exchange(port: int, raw: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send raw bytes, read until the server closes: (status line, headers, body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return status, headers, body


GET_HELP = "GET /help HTTP/1.1\r\nHost: x\r\n"
MALFORMED = {
    "space before colon": f"{GET_HELP}Authorization : Bearer {SECRET}\r\n\r\n",
    "obs-fold": f"GET /help HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer\r\n {SECRET}\r\n\r\n",
    "space in target": f"GET /domain/{SECRET} x.coop HTTP/1.1\r\nHost: x\r\n\r\n",
    "over-long header": f"GET /help HTTP/1.1\r\nHost: x\r\nX-Note: {SECRET}{'a' * 9000}\r\n\r\n",
    "over-long target": f"GET /domain/{SECRET}{'a' * 9000}.coop HTTP/1.1\r\nHost: x\r\n\r\n",
    "control character": f"{GET_HELP}Authorization: Bearer {SECRET}\x01\r\n\r\n",
    "bad version": f"GET /domain/{SECRET}.coop HTTP/9.9\r\nHost: x\r\n\r\n",
    "bad content-length": f"GET /help HTTP/1.1\r\nHost: x\r\nContent-Length: {SECRET}\r\n\r\n",
    "too many headers": "GET /help HTTP/1.1\r\n"
    + "".join(f"X-{i}: {SECRET}\r\n" for i in range(200))
    + "\r\n",
    "TLS on the HTTP port": f"\x16\x03\x01\x02\x00{SECRET}\r\n\r\n",
}


@pytest.mark.parametrize("raw", MALFORMED.values(), ids=MALFORMED.keys())
async def test_parser_rejections_are_rdap_errors_that_echo_nothing(
    wire: int, raw: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        status, headers, body = await exchange(wire, raw.encode("latin-1"))
    # GIVEN a request aiohttp's parser rejects THEN an RFC 9083 error with CORS...
    assert status.split(" ", 1)[1] == "400 Bad Request"
    assert_rdap_headers(headers)
    doc = orjson.loads(body)
    assert doc["errorCode"] == 400 and doc["title"] == "Bad Request"
    assert doc["description"] == ["The request is not a valid HTTP/1.1 request."]
    assert doc["rdapConformance"][0] == "rdap_level_0"
    # ...that repeats nothing of the request, in the answer or in the logs.
    assert SECRET.encode() not in body and SECRET not in str(headers)
    assert caplog.records
    for record in caplog.records:
        text = record.getMessage()
        assert SECRET not in text and "wireSECRET" not in text
        assert record.exc_info is None, text  # no traceback for a client's error
        assert "127.0.0.1" not in text  # the client address truncated, as elsewhere
    assert "127.0.0.0/24" in caplog.text and "Traceback" not in caplog.text


async def test_a_body_that_fails_to_decode_leaves_no_traceback(
    wire: int, caplog: pytest.LogCaptureFixture
) -> None:
    # aiohttp drains the body after the answer and logged the decoding error's traceback.
    raw = f"{GET_HELP}Content-Encoding: gzip\r\nContent-Length: {len(SECRET)}\r\n\r\n{SECRET}"
    with caplog.at_level(logging.DEBUG):
        status, _, _ = await exchange(wire, raw.encode())
    assert status == "HTTP/1.1 200 OK"
    assert "malformed request body from 127.0.0.0/24: RequestPayloadError" in caplog.text
    assert all(r.exc_info is None for r in caplog.records)
    assert SECRET not in caplog.text and "Traceback" not in caplog.text


@pytest.mark.parametrize(
    ("request_line", "logged"),
    [
        ("GET /Sami%20Calder HTTP/1.1", "GET /other 400"),
        ("GET /entity/SECRET-HANDLE HTTP/1.1", "GET /entity 404"),
        ("SAMICALDER /help HTTP/1.1", "OTHER / 400"),
        ("PROPFIND /help HTTP/1.1", "OTHER /help 405"),
        ("GET /domain/example.coop?q=Sami HTTP/1.1", "GET /domain 200"),
    ],
)
async def test_the_access_log_names_only_known_kinds(
    wire: int, caplog: pytest.LogCaptureFixture, request_line: str, logged: str
) -> None:
    with caplog.at_level(logging.INFO, logger="aiohttp.access"):
        await exchange(wire, f"{request_line}\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    (line,) = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert line.startswith(f"127.0.0.0/24 {logged} ")
    for private in ("Sami", "Calder", "SECRET"):
        assert private not in line


async def test_the_wire_server_answers_well_formed_requests(wire: int) -> None:
    raw = b"GET /domain/example.coop HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    status, headers, body = await exchange(wire, raw)
    assert status == "HTTP/1.1 200 OK"
    assert_rdap_headers(headers)
    assert orjson.loads(body)["ldhName"] == "example.coop"


# --- CORS preflight (Fetch standard) -------------------------------------------------------

PREFLIGHT = {
    "Origin": "https://page.example",
    "Access-Control-Request-Method": "GET",
    "Access-Control-Request-Headers": "authorization",
}


def test_exposed_headers_name_what_a_page_may_need() -> None:
    assert {"Retry-After", "X-COOP-ELIGIBILITY", "X-COOP-VERIFICATION"} <= set(EXPOSED_HEADERS)


@pytest.mark.parametrize(
    "headers",
    [
        PREFLIGHT,
        {**PREFLIGHT, "Access-Control-Request-Method": "HEAD"},
        {"Origin": "null", "Access-Control-Request-Method": "GET"},
        {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "Authorization"},
    ],
)
@pytest.mark.parametrize("path", ["/domain/example.org", "/help", "/nonsense"])
async def test_preflight_allows_get_head_and_authorization(
    rdap: Client, headers: dict[str, str], path: str
) -> None:
    # GIVEN a browser page that will send a bearer token WHEN it asks first THEN it may.
    async with rdap.options(path, headers=headers) as resp:
        body = await resp.read()
        assert resp.status == 204 and body == b""
        got = dict(resp.headers)
    assert_cors(got)
    assert got["Access-Control-Allow-Methods"] == "GET, HEAD"
    assert got["Access-Control-Allow-Headers"] == "Authorization"
    assert got["Access-Control-Max-Age"] == "86400"


async def test_preflight_allows_nothing_more_than_it_lists(rdap: Client) -> None:
    asked = {**PREFLIGHT, "Access-Control-Request-Method": "DELETE"}
    asked["Access-Control-Request-Headers"] = "authorization, x-custom, cookie"
    async with rdap.options("/help", headers=asked) as resp:
        assert resp.status == 204
        assert resp.headers["Access-Control-Allow-Methods"] == "GET, HEAD"
        assert resp.headers["Access-Control-Allow-Headers"] == "Authorization"
        assert "Access-Control-Allow-Credentials" not in resp.headers


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        ("OPTIONS", {}),
        ("OPTIONS", {"Origin": "https://page.example"}),
        ("POST", PREFLIGHT),
        ("PUT", {}),
        ("DELETE", {}),
    ],
)
async def test_other_methods_keep_their_rdap_405(
    rdap: Client, method: str, headers: dict[str, str]
) -> None:
    async with rdap.request(method, "/domain/example.org", headers=headers) as resp:
        status, got, doc = resp.status, dict(resp.headers), orjson.loads(await resp.read())
    assert status == 405 and doc["errorCode"] == 405
    assert_rdap_headers(got)
    assert got["Allow"] == "GET,HEAD"
    assert "Access-Control-Allow-Methods" not in got


@pytest.mark.parametrize("path", ["/domain/example.org", "/domain/nope.coop", "/domain/a..b"])
async def test_every_answer_exposes_the_headers(rdap: Client, path: str) -> None:
    for method in ("GET", "HEAD"):
        async with rdap.request(method, path) as resp:
            assert_cors(dict(resp.headers))
