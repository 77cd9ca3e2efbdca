"""The checker on real registries' published answers (corpus/real, SOURCES.md) finds exactly
the findings reviewed by hand in corpus/real/expected: no more, no fewer."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest

from conformance.check import check_document
from conformance.rules import RULES

REAL = pathlib.Path(__file__).parent / "corpus" / "real"
ANSWERS = sorted(p.stem for p in REAL.glob("*.json"))


def expected(name: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads((REAL / "expected" / f"{name}.json").read_text("utf-8"))
    return out


def test_every_answer_has_an_expected_file_and_a_source() -> None:
    assert ANSWERS and {p.stem for p in (REAL / "expected").glob("*.json")} == set(ANSWERS)
    sources = (REAL / "SOURCES.md").read_text("utf-8")
    assert all(f"`{name}.json`" in sources for name in ANSWERS)


@pytest.mark.parametrize("name", ANSWERS)
def test_findings_match_the_reviewed_list(name: str) -> None:
    # GIVEN a registry's published answer and the findings reviewed by hand
    want = expected(name)
    doc = json.loads((REAL / f"{name}.json").read_text("utf-8"))
    # WHEN the checker judges it as the answer to its request URL
    found = check_document(doc, request_url=want["request_url"], gtld=want["gtld"])
    # THEN it finds exactly those, each under its rule's severity and citation
    assert sorted([str(f.severity), f.code, f.path] for f in found) == want["findings"]
    assert all((f.severity, f.rfc) == (RULES[f.code].severity, RULES[f.code].cite) for f in found)
    # and every code found has a reviewed reason
    assert set(want["review"]) == {f.code for f in found}


def test_upper_case_ldh_names_are_not_errors() -> None:
    # The case: Verisign answers HHGAMES.COM-style upper-case names.
    want = expected("verisign-google.com")
    ldh = [f for f in want["findings"] if f[1].startswith("json.ldh-name")]
    assert ldh and all(f[:2] == ["info", "json.ldh-name.case"] for f in ldh)
