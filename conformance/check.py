"""Pure entry points of the conformance checker: judge HTTP answers, RDAP documents and WHOIS text.

No I/O: conformance.client fetches, these functions judge what was fetched.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import orjson

from conformance import document, iana, redacted, schemas, whois
from conformance import gtld as gtld_profile
from conformance.findings import Finding, error, with_url

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
            error(
                "http.content-type",
                "header:Content-Type",
                f"Content-Type {lower.get('content-type')!r} is not {iana.RDAP_MEDIA_TYPE}",
                _RFC7480,
            )
        )
    # RFC 7480 §5.6: browsers may call any RDAP server; credentials are never shared.
    if lower.get("access-control-allow-origin", "").strip() != "*":
        findings.append(
            error(
                "http.cors.allow-origin",
                "header:Access-Control-Allow-Origin",
                f"Access-Control-Allow-Origin is {lower.get('access-control-allow-origin')!r}"
                ", not '*'",
                "RFC 7480 §5.6",
            )
        )
    if "access-control-allow-credentials" in lower:
        findings.append(
            error(
                "http.cors.allow-credentials",
                "header:Access-Control-Allow-Credentials",
                "Access-Control-Allow-Credentials is set",
                "RFC 7480 §5.6",
            )
        )
    # RFC 7480 §5.5: a rate-limited client is told when to come back.
    if status == 429 and not lower.get("retry-after", "").strip():
        findings.append(
            error(
                "http.retry-after", "header:Retry-After", "429 without Retry-After", "RFC 7480 §5.5"
            )
        )
    if method.upper() == "HEAD":
        # Tell HEAD findings from the GET ones about the same URL.
        findings = [dataclasses.replace(f, path=f"HEAD {f.path}") for f in findings]
        # RFC 9110 §9.3.2: a HEAD answer has no content.
        if body:
            findings.append(
                error(
                    "http.head.body",
                    "HEAD body",
                    f"HEAD answer has a {len(body)}-byte body",
                    "RFC 9110 §9.3.2",
                )
            )
        return with_url(findings, url)
    if 300 <= status < 400 or status < 200:
        return with_url(findings, url)  # redirects carry no RDAP document
    if not body.strip():
        code = "http.error-body" if status >= 400 else "json.invalid"
        findings.append(error(code, "body", f"HTTP {status} with an empty body", "RFC 9083 §6"))
        return with_url(findings, url)
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        findings.append(error("json.invalid", "body", f"body is not JSON: {exc}", "RFC 9083 §1"))
        return with_url(findings, url)
    findings += _document(doc, url, gtld, status)
    return with_url(findings, url)


def check_document(doc: object, *, request_url: str, gtld: bool | None) -> list[Finding]:
    """Judge a parsed RDAP document served for `request_url` (HTTP status unknown)."""
    return with_url(_document(doc, request_url, gtld, None), request_url)


def check_whois(text: bytes, *, query: str) -> list[Finding]:
    """Judge the bytes a port-43 server sent in answer to `query`."""
    return whois.check(text, query=query)


def _document(
    doc: object, request_url: str, gtld: bool | None, status: int | None
) -> list[Finding]:
    if not isinstance(doc, dict):
        return [error("json.invalid", "$", "top-level JSON value is not an object", "RFC 9083 §1")]
    kind = document.classify(doc, request_url, status)
    if status is not None and status >= 400 and "errorCode" not in doc:
        # RFC 9083 §6: error answers carry an error object.
        return [
            error(
                "http.error-body", "$", f"HTTP {status} without an RDAP error object", "RFC 9083 §6"
            )
        ]
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
    if kind != "other" and gtld_profile.applies(doc, gtld):
        findings += gtld_profile.check(doc, kind, request_url)
    return findings


def _location(location: tuple[str | int, ...]) -> str:
    """A JSONPath location tuple in the checker's own path notation ($.a[1].b)."""
    out = "$"
    for part in location:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out
