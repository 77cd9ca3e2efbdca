"""RDAP over HTTP against a real replica: every route, HEAD, every error, CORS, IDN."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient

from tests.integration.conftest import BASE, SHOWCASE

Client = TestClient[Any, Any]
MEDIA = "application/rdap+json"


async def get(client: Client, path: str, **kw: Any) -> tuple[int, dict[str, Any], Any]:
    async with client.get(path, **kw) as resp:
        body = await resp.read()
        return resp.status, dict(resp.headers), orjson.loads(body)


def assert_rdap_headers(headers: dict[str, Any]) -> None:
    assert headers["Content-Type"] == MEDIA
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in headers


@pytest.mark.parametrize("name", SHOWCASE)
async def test_showcase_domains_answer(rdap: Client, name: str) -> None:
    status, headers, doc = await get(rdap, f"/domain/{name}")
    assert status == 200
    assert_rdap_headers(headers)
    assert doc["objectClassName"] == "domain" and doc["ldhName"] == name
    assert doc["rdapConformance"][0] == "rdap_level_0"
    assert doc["secureDNS"]["delegationSigned"] in (True, False)
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
    status, headers, doc = await get(rdap, "/help")
    assert status == 200
    assert_rdap_headers(headers)
    assert "rdapConformance" in doc and doc["notices"]


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
    assert {k: v for k, v in headers.items() if k != "Date"} == {
        k: v for k, v in unknown_headers.items() if k != "Date"
    }


async def test_no_script_text_anywhere(rdap: Client) -> None:
    for name in SHOWCASE:
        async with rdap.get(f"/domain/{name}") as resp:
            assert b"<script" not in (await resp.read()).lower()


async def test_answers_are_cached_per_generation(rdap: Client) -> None:
    from rdap.state import CACHE

    cache = rdap.app[CACHE]
    cache.clear()
    await get(rdap, "/domain/example.coop")
    await get(rdap, "/domain/example.coop")
    assert len(cache) == 1
    (key,) = cache.keys()
    assert key[1] == "anonymous" and isinstance(key[3], int)
