"""An adr without `cc` is conformant only when `redacted` declares the country removed.

The ICANN profile makes `cc` a MUST (gtld.jcard.adr.cc, error); without the profile it is
practice (jcard.adr.cc, info). The declaration excuses both."""

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


def codes(d: dict[str, Any], *, gtld: bool = True) -> set[str]:
    return {f.code for f in check_document(d, request_url=URL, gtld=gtld)}


def test_missing_cc_without_declaration_is_an_error() -> None:
    assert "gtld.jcard.adr.cc" in codes(doc(None))
    assert "jcard.adr.cc" in codes(doc(None), gtld=False)


def test_missing_cc_declared_removed_is_fine() -> None:
    entry = {
        "name": {"description": "Contact Country"},
        "prePath": "$.vcardArray[1][?(@[0]=='adr')][1].cc",
        "pathLang": "jsonpath",
        "method": "removal",
        "reason": {"description": "Server policy"},
    }
    assert not {"jcard.adr.cc", "gtld.jcard.adr.cc"} & codes(doc([entry]))
    assert "jcard.adr.cc" not in codes(doc([entry]), gtld=False)


def test_a_declaration_for_another_property_does_not_excuse_it() -> None:
    entry = {
        "name": {"description": "Contact Country"},
        "prePath": "$.vcardArray[1][?(@[0]=='org')][1].cc",
        "pathLang": "jsonpath",
        "method": "removal",
        "reason": {"description": "Server policy"},
    }
    assert "gtld.jcard.adr.cc" in codes(doc([entry]))
