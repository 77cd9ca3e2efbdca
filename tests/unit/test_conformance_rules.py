"""The checker's rule table: every rule cites an exact section, and its severity follows the
words of that text (MUST -> error, SHOULD -> warning, MAY / vocabulary / practice -> info)."""

from __future__ import annotations

import json
import re

import pytest

from conformance import gtld
from conformance.check import check_document, check_response
from conformance.findings import Finding, Severity
from conformance.rules import RULES, Rule, finding, retag

#: An exact section: "§" and a number, after a named document.
SECTION = re.compile(r"(RFC \d+|ICANN [A-Za-z0-9 ]+?|RA Spec \d+) §\d+(\.\d+)*")


def expected_severity(rule: Rule) -> Severity:
    words = rule.strength
    if words.startswith("practice") or "MAY" in words or "registry of values" in words:
        return Severity.INFO
    if "SHOULD" in words or "RECOMMENDED" in words:  # includes NOT RECOMMENDED
        return Severity.WARNING
    return Severity.ERROR  # MUST, REQUIRED, or the text defines the value


@pytest.mark.parametrize("code", sorted(RULES))
def test_every_rule_cites_an_exact_section(code: str) -> None:
    rule = RULES[code]
    assert rule.code == code
    assert SECTION.search(rule.cite), rule.cite
    assert rule.strength.strip()


@pytest.mark.parametrize("code", sorted(RULES))
def test_severity_follows_the_words_of_the_cited_text(code: str) -> None:
    assert RULES[code].severity is expected_severity(RULES[code])


def test_findings_take_severity_and_citation_from_the_table() -> None:
    made = finding("json.link.self", "$.entities[0]", "embedded object has no self link")
    assert (made.severity, made.rfc) == (Severity.WARNING, "RFC 9083 §5")
    with pytest.raises(KeyError):
        finding("json.no-such-rule", "$", "x")


@pytest.mark.parametrize(("base", "profile"), sorted(gtld.PROMOTED.items()))
def test_profile_rules_are_stricter_than_the_rfc_rules_they_replace(
    base: str, profile: str
) -> None:
    order = [Severity.INFO, Severity.WARNING, Severity.ERROR]
    assert order.index(RULES[profile].severity) > order.index(RULES[base].severity)
    promoted = gtld.promote(finding(base, "$", "m"))
    assert promoted == retag(finding(base, "$", "m"), profile)
    assert (promoted.code, promoted.rfc) == (profile, RULES[profile].cite)


def cctld_domain(**members: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "objectClassName": "domain",
        "ldhName": "example.ca",
        "links": [
            {
                "value": "https://rdap.example.ca/domain/example.ca",
                "rel": "self",
                "href": "https://rdap.example.ca/domain/example.ca",
                "type": "application/rdap+json",
            }
        ],
        "rdapConformance": ["rdap_level_0"],
    }
    doc.update(members)
    return doc


URL = "https://rdap.example.ca/domain/example.ca"


def codes(findings: list[Finding]) -> list[tuple[str, Severity]]:
    return sorted((f.code, f.severity) for f in findings)


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        # RFC 9083 §3: LDH names in either case; lower case is practice.
        ({"ldhName": "EXAMPLE.CA"}, [("json.ldh-name.case", Severity.INFO)]),
        ({"ldhName": "exa_mple.ca"}, [("json.ldh-name", Severity.ERROR)]),
        # RFC 9083 §5: an entity without a handle has no URI to link to.
        (
            {"entities": [{"objectClassName": "entity", "roles": ["abuse"]}]},
            [],
        ),
        (
            {"entities": [{"objectClassName": "entity", "handle": "R1", "roles": ["registrar"]}]},
            [("json.link.self", Severity.WARNING)],
        ),
        # The queried object without a self link: SHOULD, not MUST.
        ({"links": []}, [("json.link.self", Severity.WARNING)]),
        # Vocabulary the text points to: info.
        (
            {"status": ["server recover prohibited"]},
            [("json.status.value", Severity.INFO)],
        ),
        # A versioned identifier declares its prefix (CZ.NIC: fred_nsset with fred_version_0).
        ({"fred_nsset": {}, "rdapConformance": ["rdap_level_0", "fred_version_0"]}, []),
        ({"fred_nsset": {}}, [("json.rdap-conformance.extension", Severity.ERROR)]),
    ],
)
def test_rfc_readings(members: dict[str, object], expected: list[tuple[str, Severity]]) -> None:
    assert codes(check_document(cctld_domain(**members), request_url=URL, gtld=None)) == expected


def test_cors_is_recommended_by_the_rfc_and_required_by_the_gtld_profile() -> None:
    body = json.dumps(cctld_domain()).encode()
    headers = {"Content-Type": "application/rdap+json"}
    found = check_response(URL, 200, headers, body)
    assert codes(found) == [("http.cors.allow-origin", Severity.WARNING)]
    forced = [f for f in check_response(URL, 200, headers, body, gtld=True) if "cors" in f.code]
    assert codes(forced) == [("gtld.cors.allow-origin", Severity.ERROR)]
    assert forced[0].rfc == "ICANN gTLD RDAP TIG 2024 §1.13"


def test_an_empty_error_body_is_allowed() -> None:
    # RFC 9083 §6: error answers MAY carry a body.
    headers = {"Content-Type": "application/rdap+json", "Access-Control-Allow-Origin": "*"}
    assert check_response(URL, 404, headers, b"") == []
    assert codes(check_response(URL, 200, headers, b"")) == [("json.invalid", Severity.ERROR)]


def test_an_error_body_needs_only_its_error_code() -> None:
    doc = {"errorCode": 404, "rdapConformance": ["rdap_level_0"]}
    assert check_document(doc, request_url=URL, gtld=None) == []
