"""An adr without `cc` is conformant only when `redacted` declares the country removed."""

from __future__ import annotations

from typing import Any

from conformance.check import check_document

URL = "https://rdap.example/entity/X-1"


def doc(redacted: list[dict[str, Any]] | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "objectClassName": "entity",
        "handle": "X-1",
        "vcardArray": [
            "vcard",
            [
                ["version", {}, "text", "4.0"],
                ["fn", {}, "text", ""],
                ["adr", {}, "text", ["", "", "", "", "", "", ""]],
            ],
        ],
        "links": [{"value": URL, "rel": "self", "href": URL, "type": "application/rdap+json"}],
        "events": [
            {"eventAction": "last update of RDAP database", "eventDate": "2026-11-22T00:00:00Z"}
        ],
        "rdapConformance": ["rdap_level_0"],
    }
    if redacted is not None:
        out["redacted"] = redacted
        out["rdapConformance"].append("redacted")
    return out


def codes(d: dict[str, Any]) -> set[str]:
    return {f.code for f in check_document(d, request_url=URL, gtld=False) if f.severity == "error"}


def test_missing_cc_without_declaration_is_an_error() -> None:
    assert "jcard.adr.cc" in codes(doc(None))


def test_missing_cc_declared_removed_is_fine() -> None:
    entry = {
        "name": {"description": "Contact Country"},
        "prePath": "$.vcardArray[1][?(@[0]=='adr')][1].cc",
        "pathLang": "jsonpath",
        "method": "removal",
        "reason": {"description": "Server policy"},
    }
    assert "jcard.adr.cc" not in codes(doc([entry]))


def test_a_declaration_for_another_property_does_not_excuse_it() -> None:
    entry = {
        "name": {"description": "Contact Country"},
        "prePath": "$.vcardArray[1][?(@[0]=='org')][1].cc",
        "pathLang": "jsonpath",
        "method": "removal",
        "reason": {"description": "Server policy"},
    }
    assert "jcard.adr.cc" in codes(doc([entry]))
