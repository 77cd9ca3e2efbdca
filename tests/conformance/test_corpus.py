"""Conformance corpus: good answers yield nothing, each bad answer yields exactly its code."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest

from conformance.check import check_document, check_response, check_whois
from conformance.findings import Finding, Severity
from conformance.rules import RULES

CORPUS = pathlib.Path(__file__).parent / "corpus"
MANIFEST: dict[str, Any] = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
RDAP_HEADERS = {"Content-Type": "application/rdap+json", "Access-Control-Allow-Origin": "*"}
GOOD = sorted(MANIFEST["good"])
BAD = sorted(MANIFEST["bad"])
WHOIS_GOOD = sorted(p.name for p in (CORPUS / "whois" / "good").glob("*.txt"))
WHOIS_BAD = sorted(p.name for p in (CORPUS / "whois" / "bad").glob("*.txt"))


def judge(folder: str, name: str, meta: dict[str, Any]) -> list[Finding]:
    body = (CORPUS / folder / f"{name}.json").read_bytes()
    return check_response(
        meta["url"],
        meta["status"],
        meta.get("headers", RDAP_HEADERS),
        body,
        method=meta.get("method", "GET"),
    )


def errors(findings: list[Finding]) -> set[str]:
    return {f.code for f in findings if f.severity is Severity.ERROR}


def test_corpus_files_match_the_manifest() -> None:
    # GIVEN the corpus folders WHEN compared with the manifest THEN nothing is unlisted.
    assert {p.stem for p in (CORPUS / "good").glob("*.json")} == set(GOOD)
    assert {p.stem for p in (CORPUS / "bad").glob("*.json")} == set(BAD)


@pytest.mark.parametrize("name", GOOD)
def test_good_answer_has_no_findings(name: str) -> None:
    findings = judge("good", name, MANIFEST["good"][name])
    assert findings == []


@pytest.mark.parametrize("name", GOOD)
def test_good_document_has_no_findings_without_http(name: str) -> None:
    meta = MANIFEST["good"][name]
    doc = json.loads((CORPUS / "good" / f"{name}.json").read_bytes())
    assert check_document(doc, request_url=meta["url"], gtld=None) == []


@pytest.mark.parametrize("code", BAD)
def test_bad_answer_yields_exactly_its_code(code: str) -> None:
    meta = MANIFEST["bad"][code]
    findings = judge("bad", code, meta)
    hits = [f for f in findings if f.code == code]
    assert hits, f"{code} not reported; got {[(f.code, f.message) for f in findings]}"
    assert {(f.severity, f.rfc) for f in hits} == {(RULES[code].severity, RULES[code].cite)}
    assert errors(findings) <= {code}, [(f.code, f.path, f.message) for f in findings]
    assert all(f.url == meta["url"] for f in findings)


@pytest.mark.parametrize("code", BAD)
def test_bad_document_is_its_good_document_with_one_change(code: str) -> None:
    meta = MANIFEST["bad"][code]
    bad = (CORPUS / "bad" / f"{code}.json").read_bytes()
    good = (CORPUS / "good" / f"{meta['from']}.json").read_bytes()
    request_changed = any(k in meta for k in ("headers", "method")) or (
        meta["status"] != MANIFEST["good"][meta["from"]]["status"]
    )
    # A bad answer differs from its good answer in the body, or else in the request.
    assert request_changed or bad != good


def test_gtld_flag_forces_and_disables_the_profile() -> None:
    # GIVEN a ccTLD domain that does not declare the gTLD profile
    doc = json.loads((CORPUS / "good" / "domain-cctld.json").read_bytes())
    url = MANIFEST["good"]["domain-cctld"]["url"]
    # WHEN the profile is forced THEN gTLD findings appear; WHEN disabled on a gTLD answer,
    # THEN a profile defect goes unreported.
    forced = errors(check_document(doc, request_url=url, gtld=True))
    assert {"gtld.rdap-conformance", "gtld.notice.terms-of-service"} <= forced
    bad = json.loads((CORPUS / "bad" / "gtld.domain.secure-dns.json").read_bytes())
    gtld_url = MANIFEST["good"]["domain-gtld"]["url"]
    assert check_document(bad, request_url=gtld_url, gtld=False) == []


@pytest.mark.parametrize("name", WHOIS_GOOD)
def test_good_whois_answer_has_no_findings(name: str) -> None:
    text = (CORPUS / "whois" / "good" / name).read_bytes()
    assert b"\r\n" in text  # stored byte-exact with CR LF
    assert check_whois(text, query="example.org") == []


@pytest.mark.parametrize("name", WHOIS_BAD)
def test_bad_whois_answer_yields_exactly_its_code(name: str) -> None:
    code = name.removesuffix(".txt")
    findings = check_whois((CORPUS / "whois" / "bad" / name).read_bytes(), query="example.org")
    hits = [f for f in findings if f.code == code]
    assert hits, [(f.code, f.message) for f in findings]
    assert {(f.severity, f.rfc) for f in hits} == {(RULES[code].severity, RULES[code].cite)}
    assert errors(findings) <= {code}, [(f.code, f.path, f.message) for f in findings]


def test_lookup_url_fixes_the_object_class() -> None:
    # GIVEN a good nameserver answer WHEN it comes back for a domain lookup URL
    doc = json.loads((CORPUS / "good" / "nameserver.json").read_bytes())
    url = "https://rdap.example.org/domain/ns1.example.org"
    # THEN the mismatch is the one error (the gTLD profile is off: its notice links name the
    # nameserver URL)
    assert errors(check_document(doc, request_url=url, gtld=False)) == {
        "json.object-class-name.invalid"
    }


def test_unknown_extension_prefix_is_accepted_once_declared() -> None:
    # GIVEN the ccTLD answer with a registry extension member
    doc = json.loads((CORPUS / "bad" / "json.rdap-conformance.extension.json").read_bytes())
    url = MANIFEST["good"]["domain-cctld"]["url"]
    # WHEN the extension identifier is declared THEN nothing is found
    doc["rdapConformance"].append("coop")
    assert check_document(doc, request_url=url, gtld=None) == []
