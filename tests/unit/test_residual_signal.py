"""The residual at-risk signal docs/policy.md documents, and the policy options it names to
remove it (issue 11, item 6): under the defaults an at-risk registrant's answer lacks the
country an ordinary natural person's shows, and its other contacts are withheld where other
answers publish them; with the documented section settings the public cannot tell."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rdap import render
from redaction import engine
from redaction.fields import Field
from redaction.policy import Policy, Requester, default_policy
from registry.model import Contact, ContactRole, DomainRecord, PersonKind, PostalInfo
from tests.conftest import make_contact, make_record
from whois43 import render as whois_render

CTX = render.RenderContext(base_url="https://rdap.example/", request_url="https://rdap.example/d")
DEFAULT = default_policy()
#: docs/policy.md, "Residual signals": withhold state/province and country for every natural
#: person (and every organisation the registry has not verified) in the section.
NO_NATURAL_LOCATION = replace(
    DEFAULT, sections={"org": replace(DEFAULT.default, name="org", publish_natural=frozenset())}
)
#: ... and publish nothing of verified organisations either (their role accounts included).
NOTHING_PUBLISHED = replace(
    DEFAULT,
    sections={
        "org": replace(
            DEFAULT.default, name="org", publish_natural=frozenset(), publish_legal=frozenset()
        )
    },
)

ORDINARY = make_contact(handle="ORD-1")
AT_RISK = make_contact(
    handle="RSK-1",
    at_risk=True,
    postal=(
        PostalInfo(
            "int",
            "Rowan Otherperson",
            street=("9 Other Road",),
            city="Elsewhere",
            sp="Otherland",
            pc="OT1 9ER",
            cc="DE",
        ),
    ),
    email="rowan@mail.example",
    voice="+49.5550100999",
)
ROLE = make_contact(handle="ROLE-1", kind=PersonKind.LEGAL, verified=True)


def face(record: DomainRecord, policy: Policy, role: ContactRole) -> tuple[Any, ...]:
    """What the public sees of the contact in `role`: its RDAP entity, its `redacted`
    entries, and its WHOIS lines."""
    rd = engine.redact_domain(record, Requester.anonymous(), policy)
    doc = render.domain(rd, CTX)
    entities = [e for e in doc["entities"] if e.get("roles") == [role.value]]
    prefix = f"$.entities[?(@.roles[0]=='{role.value}')]"
    redacted = [
        e for e in doc.get("redacted", []) if (e.get("prePath") or e["postPath"]).startswith(prefix)
    ]
    text = whois_render.domain(rd, whois_render.RenderContext(watermark=record.info.watermark))
    word = {ContactRole.REGISTRANT: "Registrant", ContactRole.TECH: "Tech"}[role]
    lines = [line for line in text.split("\r\n") if word in line]
    return entities, redacted, lines


def pair(registrant_a: Contact, registrant_b: Contact, **kw: Any) -> list[DomainRecord]:
    return [make_record(registrant_a, **kw), make_record(registrant_b, **kw)]


def test_default_policy_leaves_the_country_signal() -> None:
    plain, risky = pair(ORDINARY, AT_RISK)
    assert face(plain, DEFAULT, ContactRole.REGISTRANT) != face(
        risky, DEFAULT, ContactRole.REGISTRANT
    )
    rd = engine.redact_domain(plain, Requester.anonymous(), DEFAULT)
    assert rd.contacts[0].shows(Field.CC)


def test_withholding_natural_persons_location_removes_it() -> None:
    plain, risky = pair(ORDINARY, AT_RISK)
    assert face(plain, NO_NATURAL_LOCATION, ContactRole.REGISTRANT) == face(
        risky, NO_NATURAL_LOCATION, ContactRole.REGISTRANT
    )


def test_other_contacts_signal_and_its_removal() -> None:
    plain, risky = pair(ORDINARY, AT_RISK, tech=ROLE)
    # A verified organisation's role account is published in ordinary answers and withheld
    # in the at-risk registrant's: a signal even once natural persons show no location.
    assert face(plain, NO_NATURAL_LOCATION, ContactRole.TECH) != face(
        risky, NO_NATURAL_LOCATION, ContactRole.TECH
    )
    assert face(plain, NOTHING_PUBLISHED, ContactRole.TECH) == face(
        risky, NOTHING_PUBLISHED, ContactRole.TECH
    )
    assert face(plain, NOTHING_PUBLISHED, ContactRole.REGISTRANT) == face(
        risky, NOTHING_PUBLISHED, ContactRole.REGISTRANT
    )
