"""Pure checks of jCard contact data (RFC 7095 as profiled by RFC 9083 §5.1). No I/O."""

from __future__ import annotations

import re
from collections.abc import Iterator

from conformance import values
from conformance.findings import Finding
from conformance.rules import finding

_CC = re.compile(r"[A-Z]{2}", re.ASCII)
# ICANN gTLD profile: withheld values are redacted in RDAP by RFC 9537, never by a marker
# text copied from port 43.
_MARKER = "redacted for privacy"


def check(vcard: object, path: str) -> list[Finding]:
    """Check one `vcardArray` value found at JSONPath `path`.

    Shape errors are the schema's job; this function skips what it cannot read.
    """
    if not (isinstance(vcard, list) and len(vcard) == 2 and isinstance(vcard[1], list)):
        return []
    findings: list[Finding] = []
    props = vcard[1]
    base = f"{path}[1]"
    first = props[0] if props else None
    # RFC 7095 §3.3.1.1 (RFC 6350 §6.7.9): "version" comes first and is "4.0".
    if not (isinstance(first, list) and first[:1] == ["version"] and first[3:4] == ["4.0"]):
        findings.append(finding("jcard.version", f"{base}[0]", "first property is not version 4.0"))
    names = [p[0] for p in props if isinstance(p, list) and p and isinstance(p[0], str)]
    # RFC 6350 §6.2.1: FN is required.
    if "fn" not in names:
        findings.append(finding("jcard.fn", base, "no fn property"))
    for index, prop in enumerate(props):
        if not (isinstance(prop, list) and len(prop) >= 4 and isinstance(prop[1], dict)):
            continue
        ppath = f"{base}[{index}]"
        name, params, vtype, value = prop[0], prop[1], prop[2], prop[3]
        if name == "adr":
            findings.extend(_adr(params, value, ppath))
        elif name == "tel":
            findings.extend(_tel(params, vtype, value, ppath))
        elif name == "email":
            for item in prop[3:]:
                problem = values.email_problem(item) if isinstance(item, str) and item else None
                if problem:
                    findings.append(finding("jcard.email", ppath, problem))
    for spath, text in _strings(vcard, path):
        if _MARKER in text.lower():
            findings.append(
                finding(
                    "jcard.redacted-text",
                    spath,
                    f"vCard text {text!r} marks a redaction; use the RFC 9537 redacted member",
                )
            )
    return findings


def _adr(params: dict[str, object], value: object, path: str) -> list[Finding]:
    # RFC 7095 §3.3.1.3, RFC 6350 §6.3.1: a structured value of exactly seven components.
    if not (isinstance(value, list) and len(value) == 7):
        return [finding("jcard.adr", path, "adr value is not a 7-component structured value")]
    findings: list[Finding] = []
    country_name = value[6]
    cc = params.get("cc")
    # RFC 8605 §3.1 offers a `cc` parameter (ISO 3166-1 alpha-2); RFC 6350 allows a country
    # name. Info here; the ICANN profile (§1.2.4, §1.4) makes both a MUST (gtld.promote).
    if country_name not in ("", []):
        findings.append(
            finding(
                "jcard.adr.cc",
                path,
                f"country name {country_name!r} in the adr value; use the cc parameter",
            )
        )
    elif not (isinstance(cc, str) and _CC.fullmatch(cc)):
        findings.append(
            finding(
                "jcard.adr.cc", path, f"adr has no ISO 3166-1 alpha-2 cc parameter (got {cc!r})"
            )
        )
    return findings


def _tel(params: dict[str, object], vtype: object, value: object, path: str) -> list[Finding]:
    findings: list[Finding] = []
    # RFC 6350 §6.4.1: the value SHOULD be reset to a URI, expected to be tel: (RFC 3966).
    if vtype != "uri" or not (isinstance(value, str) and value.startswith("tel:")):
        findings.append(
            finding("jcard.tel", path, f"tel value {value!r} is not a tel: URI of type uri")
        )
    kinds = params.get("type")
    kind_list = [kinds] if isinstance(kinds, str) else kinds if isinstance(kinds, list) else []
    if not {"voice", "fax"} & {k for k in kind_list if isinstance(k, str)}:
        findings.append(finding("jcard.tel.type", path, "tel has no type parameter voice or fax"))
    return findings


def _strings(node: object, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _strings(item, f"{path}[{i}]")
    elif isinstance(node, dict):
        for key, item in node.items():
            yield from _strings(item, f"{path}[{key!r}]")
