"""Every `redacted` entry of every showcase answer resolves, with a real RFC 9535 JSONPath
library, to what its method promises on the document actually sent (RFC 9537 §4)."""

from __future__ import annotations

from typing import Any

import jsonpath_rfc9535 as jsonpath
import orjson
import pytest
from aiohttp.test_utils import TestClient

from redaction.fields import REGISTERED_NAMES
from tests.integration.conftest import SHOWCASE

Client = TestClient[Any, Any]
PATHS = [f"/domain/{n}" for n in SHOWCASE] + ["/entity/EXCOOP-1"]


async def fetch(client: Client, path: str) -> dict[str, Any]:
    async with client.get(path) as resp:
        assert resp.status == 200
        doc: dict[str, Any] = orjson.loads(await resp.read())
        return doc


def values(path: str, doc: dict[str, Any]) -> list[Any]:
    return [node.value for node in jsonpath.find(path, doc)]


@pytest.mark.parametrize("path", PATHS)
async def test_each_redaction_matches_its_method(rdap: Client, path: str) -> None:
    doc = await fetch(rdap, path)
    entries = doc.get("redacted", [])
    if path.endswith(("consent.org",)):
        assert entries  # consent publishes name and email only; the rest stays withheld
    names = [e["name"].get("type") or e["name"].get("description") for e in entries]
    assert len(names) == len(set(names)), "one entry per withheld field"
    for entry in entries:
        assert entry["pathLang"] == "jsonpath"
        assert entry["reason"]["description"]
        label = entry["name"].get("type")
        if label is not None:
            assert label in REGISTERED_NAMES
        method = entry["method"]
        if method == "removal":
            assert "postPath" not in entry
            assert values(entry["prePath"], doc) == [], entry
        elif method == "emptyValue":
            got = values(entry["postPath"], doc)
            assert got and all(v == "" for v in got), entry
        elif method == "replacementValue":
            assert values(entry["prePath"], doc) == [], entry
            replaced = values(entry["replacementPath"], doc)
            assert replaced and all(
                v[0] == "contact-uri" and v[3].startswith("http") for v in replaced
            )
        else:
            pytest.fail(f"unexpected method {method}")


@pytest.mark.parametrize("path", PATHS)
async def test_no_vcard_says_redacted_for_privacy(rdap: Client, path: str) -> None:
    doc = await fetch(rdap, path)
    assert b"redacted for privacy" not in orjson.dumps(doc).lower()


async def test_present_fields_have_no_entry(rdap: Client) -> None:
    doc = await fetch(rdap, "/domain/consent.org")
    names = {e["name"].get("type") for e in doc["redacted"]}
    assert "Registrant Name" not in names and "Registrant Email" not in names
    (registrant,) = [e for e in doc["entities"] if e["roles"] == ["registrant"]]
    props = {p[0]: p[3] for p in registrant["vcardArray"][1]}
    assert props["fn"] == "Lena Birchley" and props["email"] == "lena.birchley@mail.example"


async def test_random_gtld_domain_with_admin_contact(rdap: Client, store: Any) -> None:
    import sqlite3

    conn = sqlite3.connect(store.path)
    (name,) = conn.execute(
        "SELECT d.name FROM domain d JOIN domain_contact c ON c.domain = d.name "
        "JOIN contact k ON k.id = c.contact "
        "WHERE c.role = 'administrative' AND d.tld = 'org' AND k.kind = 'natural' LIMIT 1"
    ).fetchone()
    doc = await fetch(rdap, f"/domain/{name}")
    assert not [e for e in doc["entities"] if e.get("roles") == ["administrative"]]
    wanted = "Administrative Contact"
    (entry,) = [e for e in doc["redacted"] if e["name"].get("description") == wanted]
    assert entry["method"] == "removal" and values(entry["prePath"], doc) == []
