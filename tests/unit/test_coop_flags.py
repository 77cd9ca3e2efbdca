""".coop flags under the registrar API's names: one value table, the same in RDAP remarks,
on the RDAP registrant entity and in WHOIS lines (pure rendering, no server)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest

from rdap import render as rdap_render
from redaction.engine import redact_domain
from redaction.policy import Requester, default_policy
from registry import coop
from registry.model import DomainRecord
from tests.conftest import (
    COOP_REGISTRANTS,
    coop_registrant,
    make_contact,
    make_coop_record,
    make_record,
)
from whois43 import render as whois_render

E, V = coop.ELIGIBILITY, coop.VERIFICATION
RDAP_CTX = rdap_render.RenderContext(
    base_url="https://rdap.registry.example/",
    request_url="https://rdap.registry.example/domain/sample.coop",
)
WHOIS_CTX = whois_render.RenderContext(watermark=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))

# (case, record, expected flags)
CASES: list[tuple[str, DomainRecord, tuple[tuple[str, str], ...]]] = [
    ("verified", make_coop_record(coop_registrant("verified")), ((E, "1"), (V, "1"))),
    ("unverified", make_coop_record(coop_registrant("unverified")), ((E, "1"), (V, "0"))),
    ("never-verified", make_coop_record(coop_registrant("never-verified")), ((E, "1"), (V, "0"))),
    (
        "not certified",
        make_coop_record(coop_registrant("verified"), certified=False),
        ((E, "0"), (V, "1")),
    ),
    # The deposit did not state a certification: no eligibility flag rather than a guess.
    ("certification unknown", make_coop_record(certified=None), ((V, "1"),)),
    ("category only", make_coop_record(certified=None, category=None), ()),
    ("no registrant", replace(make_coop_record(), contacts=()), ((E, "1"),)),
    ("not .coop", make_record(make_contact(verified=True)), ()),
]
IDS = [c[0] for c in CASES]


def test_never_verified_registrant_has_the_models_default() -> None:
    # GIVEN the never-verified test registrant THEN it was built without a verification.
    assert COOP_REGISTRANTS["never-verified"] == {}
    assert coop_registrant("never-verified").verified is False


@pytest.mark.parametrize(("case", "record", "expected"), CASES, ids=IDS)
def test_flag_values(
    case: str, record: DomainRecord, expected: tuple[tuple[str, str], ...]
) -> None:
    assert coop.flags(record) == expected


def rdap_domain(record: DomainRecord) -> dict[str, Any]:
    rd = redact_domain(record, Requester.anonymous(), default_policy())
    return rdap_render.domain(rd, RDAP_CTX)


@pytest.mark.parametrize(("case", "record", "expected"), CASES, ids=IDS)
def test_rdap_domain_remark_carries_the_flags_next_to_the_prose(
    case: str, record: DomainRecord, expected: tuple[tuple[str, str], ...]
) -> None:
    doc = rdap_domain(record)
    remarks = [r for r in doc.get("remarks", []) if r["title"] == "Registrant Eligibility"]
    flag_lines = [f"{name}: {value}" for name, value in expected]
    if not coop.carries_flags(record.domain):
        assert remarks == []
        return
    (remark,) = remarks
    lines = remark["description"]
    assert [line for line in lines if line.startswith("X-COOP-")] == flag_lines
    # The prose stays, and says the same thing.
    if (V, "1") in expected:
        assert "Registrant verified by the registry: yes" in lines
    if (V, "0") in expected:
        assert "Registrant verified by the registry: no" in lines
    if (E, "1") in expected:
        assert "Eligibility certified by the registrant: yes" in lines
    # Still no extension member: the answer declares only what it did before.
    assert not set(doc["rdapConformance"]) - {
        "rdap_level_0",
        "icann_rdap_response_profile_1",
        "icann_rdap_technical_implementation_guide_1",
        "redacted",
    }


@pytest.mark.parametrize("state", list(COOP_REGISTRANTS))
def test_rdap_registrant_entity_carries_verification(state: str) -> None:
    record = make_coop_record(coop_registrant(state))
    doc = rdap_domain(record)
    (registrant,) = [e for e in doc["entities"] if e.get("roles") == ["registrant"]]
    value = "1" if state == "verified" else "0"
    assert registrant["remarks"] == [
        {
            "title": "Registrant Verification",
            "description": [
                "Registrant verified by the registry: " + ("yes" if value == "1" else "no"),
                f"X-COOP-VERIFICATION: {value}",
            ],
        }
    ]
    # Only the registrant: the registrar entity has no verification remark.
    assert all("remarks" not in e for e in doc["entities"] if e.get("roles") != ["registrant"])


def test_no_verification_remark_outside_coop() -> None:
    doc = rdap_domain(make_record(make_contact(verified=True)))
    assert all("remarks" not in e for e in doc["entities"])


@pytest.mark.parametrize(("case", "record", "expected"), CASES, ids=IDS)
def test_whois_lines_carry_the_same_values(
    case: str, record: DomainRecord, expected: tuple[tuple[str, str], ...]
) -> None:
    rd = redact_domain(record, Requester.anonymous(), default_policy())
    text = whois_render.domain(rd, WHOIS_CTX)
    lines = text.split("\r\n")
    assert [line for line in lines if line.startswith("X-COOP-")] == [
        f"{name}: {value}" for name, value in expected
    ]
    if expected:
        # After the prose facts, before the ICANN complaint line (registry lines last).
        first = lines.index(f"{expected[0][0]}: {expected[0][1]}")
        complaint = next(i for i, line in enumerate(lines) if line.startswith("URL of the ICANN"))
        assert first < complaint
        prose = [i for i, line in enumerate(lines) if line.startswith("Registrant Verified")]
        assert all(i < first for i in prose)
