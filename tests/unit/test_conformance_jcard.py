"""Tables for the checker's jCard rules (RFC 7095, RFC 9083 §5.1, ICANN gTLD profile)."""

from __future__ import annotations

import pytest

from conformance import jcard

VERSION = ["version", {}, "text", "4.0"]
FN = ["fn", {}, "text", "Example Cooperative Ltd."]


def card(*props: list[object]) -> list[object]:
    return ["vcard", [VERSION, FN, *props]]


@pytest.mark.parametrize(
    ("vcard", "expected"),
    [
        (card(), set()),
        (
            card(["adr", {"cc": "CA"}, "text", ["", "", "1 Main St", "Ottawa", "ON", "K1A", ""]]),
            set(),
        ),
        (
            card(["adr", {"cc": "CA"}, "text", ["", "", ["1 Main St", "Unit 2"], "", "", "", ""]]),
            set(),
        ),
        (
            card(["adr", {}, "text", ["", "", "1 Main St", "Ottawa", "ON", "K1A", "Canada"]]),
            {"jcard.adr.cc"},
        ),
        (card(["adr", {}, "text", ["", "", "", "", "", "", ""]]), {"jcard.adr.cc"}),
        (card(["adr", {"cc": "can"}, "text", ["", "", "", "", "", "", ""]]), {"jcard.adr.cc"}),
        (card(["adr", {"cc": "CA"}, "text", ["", "", "1 Main St", "Ottawa"]]), {"jcard.adr"}),
        (card(["adr", {"cc": "CA"}, "text", "1 Main St, Ottawa"]), {"jcard.adr"}),
        (card(["tel", {"type": "voice"}, "uri", "tel:+1.6135550100"]), set()),
        (card(["tel", {"type": ["fax", "work"]}, "uri", "tel:+1.6135550100;ext=2"]), set()),
        (card(["tel", {"type": "voice"}, "text", "+1.6135550100"]), {"jcard.tel"}),
        (card(["tel", {"type": "voice"}, "uri", "+1.6135550100"]), {"jcard.tel"}),
        (card(["tel", {}, "uri", "tel:+1.6135550100"]), {"jcard.tel.type"}),
        (card(["email", {}, "text", "office@example.org"]), set()),
        (card(["email", {}, "text", ""]), set()),  # emptied by an RFC 9537 emptyValue
        (card(["email", {}, "text", "office at example.org"]), {"jcard.email"}),
        (card(["note", {}, "text", "Redacted For Privacy"]), {"jcard.redacted-text"}),
        (card(["org", {"x-note": "REDACTED FOR PRIVACY"}, "text", "Ex"]), {"jcard.redacted-text"}),
        (["vcard", [FN]], {"jcard.version"}),
        (["vcard", [["version", {}, "text", "3.0"], FN]], {"jcard.version"}),
        (["vcard", [VERSION]], {"jcard.fn"}),
        (["vcard", []], {"jcard.version", "jcard.fn"}),
        ("not a vcard", set()),  # shape errors belong to the schema
    ],
)
def test_jcard(vcard: object, expected: set[str]) -> None:
    assert {f.code for f in jcard.check(vcard, "$.vcardArray")} == expected
