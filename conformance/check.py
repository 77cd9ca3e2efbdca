"""Pure entry points of the conformance checker: judge HTTP answers, RDAP documents and WHOIS text.

No I/O: conformance.client fetches, these functions judge what was fetched.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import orjson

from conformance import document, iana, redacted, schemas, whois
from conformance import gtld as gtld_profile
from conformance.findings import Finding, with_url
from conformance.rules import finding

_RFC7480 = "RFC 7480 §4.2"


def check_response(
    url: str,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    method: str = "GET",
    gtld: bool | None = None,
) -> list[Finding]:
    """Judge one HTTP answer to an RDAP request: headers, then the body as an RDAP document."""
    lower = {k.lower(): v for k, v in headers.items()}
    findings: list[Finding] = []
    media = lower.get("content-type", "").split(";", 1)[0].strip().lower()
    # RFC 7480 §4.2, RFC 9083 §1: every answer, errors and HEAD included, is application/rdap+json.
    if media != iana.RDAP_MEDIA_TYPE:
        findings.append(
            finding(
                "http.content-type",
                "header:Content-Type",
                f"Content-Type {lower.get('content-type')!r} is not {iana.RDAP_MEDIA_TYPE}",
            )
        )
    # RFC 7480 §5.6: browsers may call any RDAP server (RECOMMENDED; a MUST under the ICANN
    # TIG §1.13, see gtld.promote); credentials are NOT RECOMMENDED.
    if lower.get("access-control-allow-origin", "").strip() != "*":
        findings.append(
            finding(
                "http.cors.allow-origin",
                "header:Access-Control-Allow-Origin",
                f"Access-Control-Allow-Origin is {lower.get('access-control-allow-origin')!r}"
                ", not '*'",
            )
        )
    if "access-control-allow-credentials" in lower:
        findings.append(
            finding(
                "http.cors.allow-credentials",
                "header:Access-Control-Allow-Credentials",
                "Access-Control-Allow-Credentials is set",
            )
        )
    # RFC 6585 §4: a 429 MAY say when to come back (practice: clients back off better).
    if status == 429 and not lower.get("retry-after", "").strip():
        findings.append(
            finding("http.retry-after", "header:Retry-After", "429 without Retry-After")
        )
    if method.upper() == "HEAD":
        if gtld:
            findings = [gtld_profile.promote(f) for f in findings]
        # Tell HEAD findings from the GET ones about the same URL.
        findings = [dataclasses.replace(f, path=f"HEAD {f.path}") for f in findings]
        # RFC 9110 §9.3.2: a HEAD answer has no content.
        if body:
            findings.append(
                finding("http.head.body", "HEAD body", f"HEAD answer has a {len(body)}-byte body")
            )
        return with_url(findings, url)
    if 300 <= status < 400 or status < 200:
        return with_url(findings, url)  # redirects carry no RDAP document
    if not body.strip():
        # RFC 9083 §6: error answers MAY carry a body; a 2xx answer is an RDAP document.
        if status < 400:
            findings.append(finding("json.invalid", "body", f"HTTP {status} with an empty body"))
        return with_url(findings, url)
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        findings.append(finding("json.invalid", "body", f"body is not JSON: {exc}"))
        return with_url(findings, url)
    body_findings, profile = _document(doc, url, gtld, status)
    if profile:
        findings = [gtld_profile.promote(f) for f in findings]
    return with_url(findings + body_findings, url)


def check_document(doc: object, *, request_url: str, gtld: bool | None) -> list[Finding]:
    """Judge a parsed RDAP document served for `request_url` (HTTP status unknown)."""
    return with_url(_document(doc, request_url, gtld, None)[0], request_url)


def check_whois(text: bytes, *, query: str) -> list[Finding]:
    """Judge the bytes a port-43 server sent in answer to `query`."""
    return whois.check(text, query=query)


def _document(
    doc: object, request_url: str, gtld: bool | None, status: int | None
) -> tuple[list[Finding], bool]:
    """The document's findings, and whether the gTLD profile applied to it."""
    if not isinstance(doc, dict):
        return [finding("json.invalid", "$", "top-level JSON value is not an object")], False
    kind = document.classify(doc, request_url, status)
    if status is not None and status >= 400 and "errorCode" not in doc:
        # RFC 9083 §6: an error body is an error object (errorCode REQUIRED).
        message = f"HTTP {status} without an RDAP error object"
        return [finding("http.error-body", "$", message)], False
    findings = schemas.check(doc, kind)
    findings += document.check(doc, kind, status, request_url)
    if "redacted" in doc:
        findings += redacted.check(doc, doc["redacted"])
        declared = {_location(loc) for loc in redacted.declared_removed_cc(doc)}
        findings = [
            f
            for f in findings
            if not (f.code == "jcard.adr.cc" and f.path in declared and "no ISO" in f.message)
        ]
    profile = kind != "other" and gtld_profile.applies(doc, gtld)
    if profile:
        # The profile's stricter readings replace the RFC findings they sharpen.
        findings = [gtld_profile.promote(f) for f in findings]
        findings += gtld_profile.check(doc, kind, request_url)
    return findings, profile


def _location(location: tuple[str | int, ...]) -> str:
    """A JSONPath location tuple in the checker's own path notation ($.a[1].b)."""
    out = "$"
    for part in location:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out
