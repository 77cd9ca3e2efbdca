"""An answer never reveals which optional data a withheld person gave (issue 11, item 2):
two contacts differing only in one optional element get the same RDAP `redacted` array and
the same WHOIS keys, line for line, for every requester that does not see the element."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from rdap import render
from redaction import engine
from redaction.policy import Requester, default_policy
from registry.model import Contact, ContactRole, PersonKind
from tests.conftest import make_contact, make_record
from whois43 import render as whois_render

POLICY = default_policy()
CTX = render.RenderContext(base_url="https://rdap.example/", request_url="https://rdap.example/d")


def _without(contact: Contact, element: str) -> Contact:
    postal = contact.postal[0]
    match element:
        case "sp" | "pc" | "org":
            return replace(contact, postal=(replace(postal, **{element: None}),))
        case "street2":
            return replace(contact, postal=(replace(postal, street=postal.street[:1]),))
        case _:
            return replace(contact, **{element: None})


OPTIONAL = ["fax", "fax_ext", "voice_ext", "voice", "sp", "pc", "org", "street2"]
PERSONS = {
    "natural": make_contact(),
    "at-risk": make_contact(at_risk=True),
    "legal-unverified": make_contact(kind=PersonKind.LEGAL),
}
REQUESTERS = {
    "anonymous": Requester.anonymous(),
    # Granted identity and contact fields only: fax, address and the rest stay withheld.
    "law-enforcement/regulatory": Requester("law-enforcement", "regulatoryAndContractEnforcement"),
    "registrar/unknown-purpose": Requester("registrar", "dnsTransparency"),
}


def _answers(contact: Contact, requester: Requester, **kw: Any) -> tuple[Any, list[str], Any]:
    tech = replace(contact, handle="TECH-1")
    record = make_record(contact, tech=tech, **kw)
    rd = engine.redact_domain(record, requester, POLICY)
    doc = render.domain(rd, CTX)
    text = whois_render.domain(rd, whois_render.RenderContext(watermark=record.info.watermark))
    keys = [line.split(":", 1)[0] for line in text.split("\r\n") if ":" in line]
    return doc.get("redacted", []), keys, rd


@pytest.mark.parametrize("element", OPTIONAL)
@pytest.mark.parametrize("person", PERSONS)
@pytest.mark.parametrize("who", REQUESTERS)
def test_optional_element_presence_is_not_revealed(element: str, person: str, who: str) -> None:
    requester = REQUESTERS[who]
    full = PERSONS[person]
    partial = _without(full, element)
    redacted_full, keys_full, _ = _answers(full, requester)
    redacted_partial, keys_partial, _ = _answers(partial, requester)
    assert redacted_full == redacted_partial
    assert keys_full == keys_partial


@pytest.mark.parametrize("element", OPTIONAL)
def test_at_risk_answers_are_identical_whatever_was_given(element: str) -> None:
    full = PERSONS["at-risk"]
    for requester in REQUESTERS.values():
        a = _answers(full, requester)
        b = _answers(_without(full, element), requester)
        # The whole registrant entity and the whole WHOIS text, not only the keys.
        entity_a = [
            e for e in render.domain(a[2], CTX)["entities"] if e.get("roles") == ["registrant"]
        ]
        entity_b = [
            e for e in render.domain(b[2], CTX)["entities"] if e.get("roles") == ["registrant"]
        ]
        assert entity_a == entity_b
        ctx = whois_render.RenderContext(watermark=a[2].record.info.watermark)
        assert whois_render.domain(a[2], ctx) == whois_render.domain(b[2], ctx)


def test_pending_delete_declares_every_field() -> None:
    rd = engine.redact_domain(
        make_record(_without(make_contact(), "fax"), statuses=("pendingDelete",)),
        Requester.anonymous(),
        POLICY,
    )
    assert {w.label for w in rd.contacts[0].withheld.values()} >= {
        "Registrant Fax",
        "Registrant Fax Ext",
    }
    assert rd.contacts[0].role is ContactRole.REGISTRANT
