"""The complete policy example of docs/policy.md parses, and every key it shows behaves as the
document says, on the demo replica served by the real RDAP app (with real credentials) and
the real WHOIS server.

The example is read from the document itself: if the document changes, this test reads the
new text; if it gains a key, `test_every_key_of_the_example_is_covered` fails until the key's
behaviour is pinned here.

Mutations of redaction/policy.py that fail these (tried): the `email_pointer` key read but
not applied; a `[tld.X]` section's `methods` ignored.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import shutil
import sqlite3
import tomllib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient

from access import credentials, disclosures
from access.credentials import CredentialStore
from access.service import build
from access.settings import AuthSettings
from core.lookup import Lookup
from rdap.server import make_app
from rdap.settings import RdapConfig
from rdds import config
from redaction import policy as policy_mod
from replica.store import SqliteStore, open_store
from whois43 import server as whois_server
from whois43.settings import WhoisSettings

Client = TestClient[Any, Any]
ROOT = Path(__file__).resolve().parent.parent.parent
BASE = "https://rdap.registry.example/"
FORM = "https://registry.example/contact?domain={domain}&role={role}"
POINTER = "Please use the contact form at https://registry.example/contact to reach the registrant."


def example() -> str:
    text = (ROOT / "docs" / "policy.md").read_text(encoding="utf-8")
    section = text.split("## Complete example", 1)[1]
    match = re.search(r"```toml\n(.*?)```", section, re.S)
    assert match, "docs/policy.md has no toml block under 'Complete example'"
    return match.group(1)


def keys(table: dict[str, Any], prefix: str = "") -> set[str]:
    out: set[str] = set()
    for key, value in table.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            out |= keys(value, path)
        else:
            out.add(path)
    return out


#: Every key the example shows, and the test below that pins its behaviour.
COVERED = {
    "default.disclose_default": "test_natural_person_publishes_sp_and_cc",
    "default.publish_natural": "test_natural_person_publishes_sp_and_cc",
    "default.publish_legal_verified": "test_verified_organisation",
    "default.email_contact_form": "test_email_contact_form_and_methods",
    "default.email_pointer": "test_cx_email_removal_and_pointer",
    "default.reason": "test_email_contact_form_and_methods",
    "default.pending_delete": "test_pending_delete_minimal",
    "default.methods.name": "test_email_contact_form_and_methods",
    "default.methods.email": "test_email_contact_form_and_methods",
    "tld.cx.disclose_default": "test_cx_follows_the_replica",
    "tld.cx.methods.email": "test_cx_email_removal_and_pointer",
    "tiers.registrar.rank": "test_tiers",
    "tiers.registrar.purposes.domainNameControl": "test_tiers",
    "tiers.law-enforcement.rank": "test_tiers",
    "tiers.law-enforcement.purposes.criminalInvestigationAndDNSAbuse": "test_tiers",
    "tiers.law-enforcement.purposes.legalActions": "test_tiers",
    "tiers.registry-staff.rank": "test_tiers",
    "tiers.registry-staff.purposes.*": "test_tiers",
}


def test_every_key_of_the_example_is_covered() -> None:
    assert keys(tomllib.loads(example())) == set(COVERED)


def test_the_example_parses_as_a_policy_and_as_a_config_file() -> None:
    policy = policy_mod.parse(example(), "docs/policy.md")
    assert config.parse(example(), "docs/policy.md").policy == policy
    assert policy.default.email_pointer == POINTER
    assert policy.default.email_contact_form == FORM
    assert set(policy.tiers) == {"registrar", "law-enforcement", "registry-staff"}
    assert policy.highest_rank == 30


POLICY = policy_mod.parse(example(), "docs/policy.md")


async def served(
    store: SqliteStore, data_dir: Path, make: Callable[..., Awaitable[Client]]
) -> Client:
    access = build(AuthSettings(data_dir=data_dir), POLICY)
    app = make_app(Lookup(store, POLICY), RdapConfig(base_url=BASE, port43=None), access)
    return await make(app)


@pytest.fixture
async def rdap(
    store: SqliteStore, tmp_path: Path, aiohttp_client: Callable[..., Awaitable[Client]]
) -> Client:
    return await served(store, tmp_path / "access", aiohttp_client)


def token(data_dir: Path, tier: str, purpose: str) -> dict[str, str]:
    disclosures.set_up(data_dir)  # starts the chain: the anchor vouches for an empty log
    cred, secret = credentials.issue(tier, "Doc Example Org", (purpose,), dt.datetime.now(dt.UTC))
    CredentialStore(data_dir).add(cred)
    return {"Authorization": f"Bearer {secret}"}


async def fetch(client: Client, path: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    async with client.get(path, headers=headers or {}) as resp:
        assert resp.status == 200, await resp.text()
        doc: dict[str, Any] = orjson.loads(await resp.read())
        return doc


def entity(doc: dict[str, Any], role: str) -> dict[str, Any]:
    (found,) = [e for e in doc["entities"] if e.get("roles") == [role]]
    return found


def props(ent: dict[str, Any]) -> dict[str, Any]:
    """jCard property name -> (params, value) of the first of each."""
    out: dict[str, Any] = {}
    for p in ent["vcardArray"][1]:
        out.setdefault(p[0], (p[1], p[3]))
    return out


def shown_values(ent: dict[str, Any]) -> dict[str, Any]:
    """What an entity shows, in the policy's field names (empty slots left out)."""
    p = props(ent)
    out: dict[str, Any] = {}
    if "handle" in ent:
        out["handle"] = ent["handle"]
    if p.get("fn", ({}, ""))[1]:
        out["name"] = p["fn"][1]
    if "org" in p:
        out["org"] = p["org"][1]
    if "adr" in p:
        params, adr = p["adr"]
        for slot, name in ((2, "street"), (3, "city"), (4, "sp"), (5, "pc")):
            if adr[slot]:
                out[name] = adr[slot]
        if "cc" in params:
            out["cc"] = params["cc"]
    for prop in ent["vcardArray"][1]:
        if prop[0] == "tel":
            out[prop[1]["type"]] = prop[3]
    if "email" in p:
        out["email"] = p["email"][1]
    return out


async def test_natural_person_publishes_sp_and_cc(rdap: Client) -> None:
    # disclose_default = false, publish_natural = ["sp", "cc"].
    doc = await fetch(rdap, "/domain/example.org")
    assert shown_values(entity(doc, "registrant")) == {"sp": "WA", "cc": "US"}


async def test_verified_organisation(rdap: Client) -> None:
    # publish_legal_verified: the organisation's data, not a person's name or email.
    doc = await fetch(rdap, "/domain/example.coop")
    got = shown_values(entity(doc, "registrant"))
    assert set(got) == {"handle", "org", "street", "city", "sp", "pc", "cc", "voice", "fax"}
    assert got["org"] == "Example Cooperative Ltd" and got["voice"].endswith(";ext=42")


async def test_email_contact_form_and_methods(rdap: Client) -> None:
    doc = await fetch(rdap, "/domain/example.org")
    registrant = props(entity(doc, "registrant"))
    assert registrant["contact-uri"][1] == FORM.format(domain="example.org", role="registrant")
    assert "email" not in registrant
    entries = {e["name"].get("type") or e["name"]["description"]: e for e in doc["redacted"]}
    assert entries["Registrant Name"]["method"] == "emptyValue"  # [default.methods] name
    assert entries["Registrant Email"]["method"] == "replacementValue"  # [default.methods] email
    assert {e["reason"]["description"] for e in doc["redacted"]} == {"Server policy"}


async def test_pending_delete_minimal(rdap: Client) -> None:
    doc = await fetch(rdap, "/domain/pending.gs")
    assert shown_values(entity(doc, "registrant")) == {}


async def ask(port: int, line: str) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(line.encode() + b"\r\n")
        await writer.drain()
        return (await asyncio.wait_for(reader.read(), 10)).decode()
    finally:
        writer.close()


@pytest.fixture
async def whois(store: SqliteStore) -> AsyncIterator[int]:
    settings = WhoisSettings(port=0, rate_per_second=1000.0, rate_burst=1000)
    server = await whois_server.start(Lookup(store, POLICY), settings, "127.0.0.1")
    try:
        yield server.port
    finally:
        await server.close()


async def test_cx_email_removal_and_pointer(rdap: Client, whois: int) -> None:
    # [tld.cx] methods = { email = "removal" }: no contact form in RDAP; WHOIS prints the
    # section's email_pointer (inherited from [default]) instead of an address.
    doc = await fetch(rdap, "/domain/suspended.cx")
    registrant = props(entity(doc, "registrant"))
    assert "contact-uri" not in registrant and "email" not in registrant
    (email,) = [e for e in doc["redacted"] if e["name"].get("type") == "Registrant Email"]
    assert email["method"] == "removal" and "replacementPath" not in email
    text = await ask(whois, "suspended.cx")
    assert f"Registrant Email: {POINTER}\r\n" in text
    # Elsewhere the contact form stands in for the address, on port 43 too.
    org = await ask(whois, "example.org")
    assert "Registrant Email: " + FORM.format(domain="example.org", role="registrant") in org


async def test_cx_follows_the_replica(
    demo_replica: Path, tmp_path: Path, aiohttp_client: Callable[..., Awaitable[Client]]
) -> None:
    # [tld.cx] disclose_default = "replica": the deposit's data collection policy decides.
    private = tmp_path / "private.sqlite"
    public = tmp_path / "public.sqlite"
    shutil.copyfile(demo_replica, private)
    shutil.copyfile(demo_replica, public)
    conn = sqlite3.connect(public)
    with conn:
        conn.execute("UPDATE tld SET disclose_default = 1 WHERE name = 'cx'")
    conn.close()
    seen = {}
    for path in (private, public):
        store = await open_store(path, pool_size=1)
        try:
            client = await served(store, tmp_path / f"access-{path.stem}", aiohttp_client)
            doc = await fetch(client, "/domain/suspended.cx")
            seen[path.stem] = shown_values(entity(doc, "registrant"))
        finally:
            await store.close()
    assert seen["private"] == {"sp": "Christmas Island", "cc": "CX"}
    assert seen["public"]["name"] == "Omar Dunmore"
    assert seen["public"]["email"] == "susp-1@mail.example"


def registrant_name(doc: dict[str, Any]) -> str:
    return str(props(entity(doc, "registrant"))["fn"][1])


async def test_tiers(rdap: Client, tmp_path: Path) -> None:
    data_dir = tmp_path / "access"
    sees_org = {
        ("registrar", "domainNameControl"): True,
        # The example's registrar tier replaces the built-in one, which had this grant.
        ("registrar", "technicalIssueResolution"): False,
        ("law-enforcement", "criminalInvestigationAndDNSAbuse"): True,
        ("law-enforcement", "legalActions"): True,
        ("law-enforcement", "regulatoryAndContractEnforcement"): False,
        ("registry-staff", "dnsTransparency"): True,
    }
    for (tier, purpose), sees in sees_org.items():
        headers = token(data_dir, tier, purpose)
        doc = await fetch(rdap, "/domain/example.org", headers)
        assert (registrant_name(doc) == "Dara Ashdown") is sees, (tier, purpose)
        # Only the highest rank (registry-staff, 30) sees an at-risk registrant.
        at_risk = await fetch(rdap, "/domain/journalist.org", headers)
        assert (registrant_name(at_risk) == "Sami Calder") is (tier == "registry-staff")
        if tier != "registry-staff":
            assert shown_values(entity(at_risk, "registrant")) == {}
