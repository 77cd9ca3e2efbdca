"""RDAP and WHOIS agree on what is withheld: for every showcase domain and requester, the
labels in RDAP's `redacted` array equal the keys WHOIS prints as withheld.

Both render the same `RedactedDomain`. WHOIS renders authorized views only here: port 43
itself is always anonymous.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.lookup import Lookup
from rdap import render as rdap_render
from redaction.engine import RedactedDomain
from redaction.fields import Field
from redaction.policy import Requester
from registry import names
from tests.whois_support import SHOWCASE, lookup, replica_path
from whois43 import render as whois_render

__all__ = ["lookup", "replica_path"]

REQUESTERS = {
    "anonymous": Requester.anonymous(),
    "law-enforcement": Requester(
        tier="law-enforcement", purpose="criminalInvestigationAndDNSAbuse"
    ),
    "registry-staff": Requester(tier="registry-staff", purpose="dnsTransparency"),
}


def rdap_labels(rd: RedactedDomain) -> set[str]:
    ctx = rdap_render.RenderContext(
        base_url="https://rdap.example/", request_url="https://rdap.example/x"
    )
    doc = rdap_render.domain(rd, ctx)
    out = set()
    for entry in doc.get("redacted", []):
        name = entry["name"]
        out.add(name.get("type") or name["description"])
    return out


def whois_labels(rd: RedactedDomain) -> set[str]:
    ctx = whois_render.RenderContext(watermark=rd.record.info.watermark)
    text = whois_render.domain(rd, ctx)
    pointers = {v.email_pointer for v in rd.contacts}
    out = set()
    for line in text.split("\r\n"):
        key, sep, value = line.partition(": ")
        if not sep:
            continue
        if value == whois_render.REDACTED or (key.endswith(" Email") and value in pointers):
            out.add(key)
    for view in rd.contacts:
        if view.omitted:
            # A contact withheld whole: WHOIS prints no block for it (RDAP: one removal).
            prefix = view.label(Field.NAME).split(" ")[0] + " "
            if not any(line.startswith(prefix) for line in text.split("\r\n")):
                out.add(view.entity_label)
    return out


@pytest.mark.parametrize("who", sorted(REQUESTERS))
@pytest.mark.parametrize("domain", SHOWCASE)
async def test_same_fields_withheld(lookup: Lookup, domain: str, who: str) -> None:
    rd = await lookup.domain(names.from_text(domain), REQUESTERS[who])
    assert whois_labels(rd) == rdap_labels(rd) == set(rd.withheld_labels)


async def test_omitted_contact_has_no_whois_block(lookup: Lookup, replica_path: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(replica_path)
    (name,) = conn.execute(
        "SELECT d.name FROM domain d JOIN domain_contact c ON c.domain = d.name "
        "JOIN contact k ON k.id = c.contact WHERE c.role = 'administrative' "
        "AND d.tld = 'org' AND k.kind = 'natural' LIMIT 1"
    ).fetchone()
    rd = await lookup.domain(names.from_text(name), REQUESTERS["anonymous"])
    assert any(v.omitted for v in rd.contacts)
    assert whois_labels(rd) == rdap_labels(rd) == set(rd.withheld_labels)
    assert "Administrative Contact" in whois_labels(rd)


async def test_the_test_sees_something(lookup: Lookup) -> None:
    # Guard against a vacuous pass: anonymous example.org withholds, registry staff does not.
    rd = await lookup.domain(names.from_text("example.org"), REQUESTERS["anonymous"])
    assert {"Registrant Name", "Registrant Email", "Registry Registrant ID"} <= whois_labels(rd)
    rd = await lookup.domain(names.from_text("example.org"), REQUESTERS["registry-staff"])
    assert whois_labels(rd) == set()
