"""The demo generator's showcase objects each show what they are for."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp.test_utils import TestClient

from replica.store import SqliteStore

Client = TestClient[Any, Any]


async def doc_for(client: Client, path: str) -> dict[str, Any]:
    async with client.get(path) as resp:
        assert resp.status == 200, path
        out: dict[str, Any] = orjson.loads(await resp.read())
        return out


def entity(doc: dict[str, Any], role: str) -> dict[str, Any]:
    (found,) = [e for e in doc["entities"] if e.get("roles") == [role]]
    return found


def props(ent: dict[str, Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for p in ent["vcardArray"][1]:
        out.setdefault(p[0], []).append(p)
    return out


def redacted_names(doc: dict[str, Any]) -> set[str]:
    return {e["name"].get("type") or e["name"].get("description") for e in doc.get("redacted", [])}


async def test_example_coop_legal_verified_signed(rdap: Client) -> None:
    doc = await doc_for(rdap, "/domain/example.coop")
    assert (
        doc["secureDNS"]["delegationSigned"] is True
        and doc["secureDNS"]["dsData"][0]["keyTag"] == 2371
    )
    reg = props(entity(doc, "registrant"))
    assert reg["org"][0][3] == "Example Cooperative Ltd"
    assert reg["fn"][0][3] == ""  # a person's name inside an organisation stays withheld
    remark = " ".join(doc["remarks"][0]["description"])
    assert "COOP" in remark and "Registrant verified by the registry: yes" in remark
    assert {"X-COOP-ELIGIBILITY: 1", "X-COOP-VERIFICATION: 1"} <= set(
        doc["remarks"][0]["description"]
    )
    assert "X-COOP-VERIFICATION: 1" in entity(doc, "registrant")["remarks"][0]["description"]
    assert "Registrant Organization" not in redacted_names(doc)


async def test_unverified_coop(rdap: Client) -> None:
    doc = await doc_for(rdap, "/domain/unverified.coop")
    remark = " ".join(doc["remarks"][0]["description"])
    assert "CS" in remark and "Registrant verified by the registry: no" in remark
    assert {"X-COOP-ELIGIBILITY: 1", "X-COOP-VERIFICATION: 0"} <= set(
        doc["remarks"][0]["description"]
    )
    assert "X-COOP-VERIFICATION: 0" in entity(doc, "registrant")["remarks"][0]["description"]
    assert "Registrant Organization" in redacted_names(doc)  # unverified: treated as a person


async def test_example_org_natural_person_nothing_consented(rdap: Client) -> None:
    doc = await doc_for(rdap, "/domain/example.org")
    reg = props(entity(doc, "registrant"))
    adr = reg["adr"][0]
    assert adr[1] == {"cc": "US"} and adr[3][4] == "WA"  # state/province and country published
    assert adr[3][2] == adr[3][3] == adr[3][5] == ""
    assert reg["fn"][0][3] == "" and "email" not in reg and "tel" not in reg
    assert {
        "Registrant Name",
        "Registrant Email",
        "Registrant Phone",
        "Registry Registrant ID",
    } <= redacted_names(doc)
    assert "handle" not in entity(doc, "registrant")
    assert b"Dara Ashdown" not in orjson.dumps(doc)


async def test_consent_org_shows_name_and_email_only(rdap: Client) -> None:
    doc = await doc_for(rdap, "/domain/consent.org")
    reg = props(entity(doc, "registrant"))
    assert reg["fn"][0][3] == "Lena Birchley"
    assert reg["email"][0][3] == "lena.birchley@mail.example"
    assert "tel" not in reg and reg["adr"][0][3][2] == ""


async def test_journalist_org_at_risk_has_no_location(rdap: Client) -> None:
    doc = await doc_for(rdap, "/domain/journalist.org")
    reg = props(entity(doc, "registrant"))
    adr = reg["adr"][0]
    assert adr[1] == {} and all(v == "" for v in adr[3])
    names = redacted_names(doc)
    assert {"Registrant State/Province", "Registrant Country"} <= names
    body = orjson.dumps(doc)
    assert b"Sami Calder" not in body and b"Altstadt" not in body and b'"DE"' not in body


async def test_suspended_cx(rdap: Client) -> None:
    doc = await doc_for(rdap, "/domain/suspended.cx")
    assert "server hold" in doc["status"] and "active" not in doc["status"]
    assert any("acceptable use" in " ".join(r["description"]) for r in doc["remarks"])


async def test_pending_gs(rdap: Client) -> None:
    doc = await doc_for(rdap, "/domain/pending.gs")
    assert {"pending delete", "redemption period"} <= set(doc["status"])
    reg = props(entity(doc, "registrant"))
    assert reg["adr"][0][1] == {}  # pending delete: minimal data, not even the country


async def test_idn_in_idn_cctld(rdap: Client) -> None:
    doc = await doc_for(rdap, "/domain/مثال.عراق")
    assert doc["ldhName"] == "xn--mgbh0fb.xn--mgbtx2b" and doc["unicodeName"] == "مثال.عراق"


async def test_ns1_example_coop_glue(rdap: Client) -> None:
    doc = await doc_for(rdap, "/nameserver/ns1.example.coop")
    assert doc["ipAddresses"] == {"v4": ["45.142.220.11"], "v6": ["2a0f:9400:7e11::53"]}


async def test_demo_is_deterministic_and_sized(store: SqliteStore, tmp_path: Any) -> None:
    from replica import demo

    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    demo.write(a, 50, seed=7)
    demo.write(b, 50, seed=7)
    import sqlite3

    dump = [list(sqlite3.connect(p).iterdump()) for p in (a, b)]
    assert dump[0] == dump[1]
    assert sqlite3.connect(a).execute("SELECT count(*) FROM domain").fetchone() == (50,)
    assert store.info.generation == 1


def test_demo_values_are_synthetic(demo_replica: Any) -> None:
    import sqlite3

    conn = sqlite3.connect(demo_replica)
    emails = [r[0] for r in conn.execute("SELECT email FROM contact")]
    assert emails and all(e.endswith(".example") for e in emails)
    phones = [r[0] for r in conn.execute("SELECT voice FROM contact WHERE voice IS NOT NULL")]
    assert all(p.split(".")[1].startswith("55501") for p in phones)
