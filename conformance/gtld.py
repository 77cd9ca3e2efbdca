"""Pure checks of the ICANN gTLD RDAP Response Profile and Technical Implementation Guide (2024).

Applied when a response declares the profile or the user asks for it (`--gtld`). No I/O.
"""

from __future__ import annotations

from collections.abc import Iterator

from conformance import iana, values
from conformance.findings import Finding
from conformance.rules import finding, retag

STATUS_CODES_TEXT = (
    "For more information on domain status codes, please visit https://icann.org/epp"
)
INACCURACY_TEXT = "URL of the ICANN RDDS Inaccuracy Complaint Form: https://icann.org/wicf"


#: RFC rules the profile makes stricter: their findings are re-filed under the profile's code
#: (its severity and citation) wherever the profile applies.
PROMOTED: dict[str, str] = {
    "http.cors.allow-origin": "gtld.cors.allow-origin",
    "jcard.adr.cc": "gtld.jcard.adr.cc",
    "jcard.tel.type": "gtld.jcard.tel.type",
    "json.script": "gtld.script",
    "json.secure-dns": "gtld.domain.secure-dns",
}


def promote(found: Finding) -> Finding:
    """The finding under the profile's stricter rule, if the profile has one for it."""
    code = PROMOTED.get(found.code)
    return retag(found, code) if code else found


def applies(doc: object, gtld: bool | None) -> bool:
    """Return whether the profile checks run: forced by `gtld`, else declared by the document."""
    if gtld is not None:
        return gtld
    conformance = doc.get("rdapConformance") if isinstance(doc, dict) else None
    return isinstance(conformance, list) and iana.GTLD_PROFILE in conformance


def check(doc: dict[str, object], kind: str, request_url: str) -> list[Finding]:
    """Check a top-level response of `kind` (see schemas.KINDS) against the gTLD profile."""
    findings = _conformance(doc)
    if kind in ("domain", "nameserver", "entity", "help", "search"):
        findings += _notices(doc, request_url, domain=kind == "domain")
    if kind == "domain":
        findings += _domain(doc)
    for ns_path, nameserver in _nameservers(doc, kind):
        findings += _glue(nameserver, ns_path)
    return findings


def _conformance(doc: dict[str, object]) -> list[Finding]:
    declared = doc.get("rdapConformance")
    if not isinstance(declared, list):
        return []  # reported as json.rdap-conformance.missing
    findings: list[Finding] = []
    for needed in (iana.GTLD_PROFILE, iana.GTLD_TIG):
        if needed not in declared:
            findings.append(
                finding("gtld.rdap-conformance", "$.rdapConformance", f"{needed!r} missing")
            )
    for retired in sorted(iana.GTLD_RETIRED & {v for v in declared if isinstance(v, str)}):
        findings.append(
            finding(
                "gtld.rdap-conformance",
                "$.rdapConformance",
                f"{retired!r} is retired; declare the _1 version",
            )
        )
    return findings


def _notices(doc: dict[str, object], request_url: str, *, domain: bool) -> list[Finding]:
    notices = doc.get("notices")
    by_title: dict[str, tuple[int, dict[str, object]]] = {}
    if isinstance(notices, list):
        for index, notice in enumerate(notices):
            if isinstance(notice, dict) and isinstance(notice.get("title"), str):
                by_title.setdefault(str(notice["title"]), (index, notice))
    # (title, finding code, required description text, rel, required href)
    wanted: list[tuple[str, str, str | None, str, str | None]] = [
        ("Terms of Service", "gtld.notice.terms-of-service", None, "terms-of-service", None)
    ]
    if domain:
        wanted += [
            (
                "Status Codes",
                "gtld.notice.status-codes",
                STATUS_CODES_TEXT,
                "glossary",
                "https://icann.org/epp",
            ),
            (
                "RDDS Inaccuracy Complaint Form",
                "gtld.notice.inaccuracy-form",
                INACCURACY_TEXT,
                "help",
                "https://icann.org/wicf",
            ),
        ]
    findings: list[Finding] = []
    for title, code, text, rel, href in wanted:
        if title not in by_title:
            findings.append(finding(code, "$.notices", f"no notice titled {title!r}"))
            continue
        index, notice = by_title[title]
        path = f"$.notices[{index}]"
        description = notice.get("description")
        lines = (
            [d for d in description if isinstance(d, str)] if isinstance(description, list) else []
        )
        if text is not None and not any(text in line for line in lines):
            findings.append(finding(code, f"{path}.description", f"description lacks {text!r}"))
        links = notice.get("links")
        link_list = [lk for lk in links if isinstance(lk, dict)] if isinstance(links, list) else []
        if not any(
            lk.get("rel") == rel and (href is None or lk.get("href") == href) for lk in link_list
        ):
            want = f"rel {rel!r}" + (f" to {href}" if href else "")
            findings.append(finding(code, f"{path}.links", f"no link with {want}"))
        if isinstance(links, list):
            for li, link in enumerate(links):
                if isinstance(link, dict) and "value" in link and link["value"] != request_url:
                    findings.append(
                        finding(
                            "gtld.notice.link-value",
                            f"{path}.links[{li}].value",
                            f"{link['value']!r} is not the request URL {request_url!r}",
                        )
                    )
    return findings


def _domain(doc: dict[str, object]) -> list[Finding]:
    findings: list[Finding] = []
    handle = doc.get("handle")
    redacted = doc.get("redacted")
    declared = isinstance(redacted, list) and any(
        isinstance(e, dict)
        and isinstance(e.get("name"), dict)
        and e["name"].get("type") == "Registry Domain ID"
        for e in redacted
    )
    if isinstance(handle, str):
        if not values.ROID.fullmatch(handle):
            findings.append(
                finding(
                    "gtld.domain.handle",
                    "$.handle",
                    f"{handle!r} is not a Registry Object ID (ROID)",
                )
            )
    elif not declared:
        findings.append(
            finding("gtld.domain.handle", "$", "no handle and no 'Registry Domain ID' redaction")
        )
    events = doc.get("events")
    actions = (
        [e.get("eventAction") for e in events if isinstance(e, dict)]
        if isinstance(events, list)
        else []
    )
    for action in ("registration", "expiration", "last update of RDAP database"):
        if action not in actions:
            findings.append(finding("gtld.domain.events", "$.events", f"no {action!r} event"))
    if "secureDNS" not in doc:
        findings.append(finding("gtld.domain.secure-dns", "$", "no secureDNS member"))
    status = doc.get("status")
    if not (isinstance(status, list) and status):
        findings.append(finding("gtld.domain.status", "$", "no status value"))
    links = doc.get("links")
    if not (
        isinstance(links, list)
        and any(isinstance(lk, dict) and lk.get("rel") == "related" for lk in links)
    ):
        findings.append(
            finding(
                "gtld.domain.related-link",
                "$.links",
                "no rel 'related' link to the registrar's RDAP record",
            )
        )
    findings += _registrar(doc)
    return findings


def _registrar(doc: dict[str, object]) -> list[Finding]:
    entities = doc.get("entities")
    found = [
        (i, e)
        for i, e in enumerate(entities if isinstance(entities, list) else [])
        if isinstance(e, dict) and isinstance(e.get("roles"), list) and "registrar" in e["roles"]
    ]
    if len(found) != 1:
        return [
            finding(
                "gtld.registrar.count",
                "$.entities",
                f"{len(found)} registrar entities; exactly one expected",
            )
        ]
    index, registrar = found[0]
    path = f"$.entities[{index}]"
    findings: list[Finding] = []
    if not _vcard_values(registrar, "fn"):
        findings.append(finding("gtld.registrar.fn", path, "registrar has no fn"))
    handle = registrar.get("handle")
    ids = registrar.get("publicIds")
    iana_ids = [
        p.get("identifier")
        for p in (ids if isinstance(ids, list) else [])
        if isinstance(p, dict) and p.get("type") == "IANA Registrar ID"
    ]
    if not iana_ids:
        findings.append(
            finding("gtld.registrar.id", path, "no publicIds entry of type 'IANA Registrar ID'")
        )
    elif not isinstance(handle, str) or handle not in iana_ids:
        findings.append(
            finding(
                "gtld.registrar.id",
                f"{path}.handle",
                f"handle {handle!r} is not the IANA Registrar ID",
            )
        )
    nested = registrar.get("entities")
    abuse = [
        e
        for e in (nested if isinstance(nested, list) else [])
        if isinstance(e, dict) and isinstance(e.get("roles"), list) and "abuse" in e["roles"]
    ]
    if not abuse:
        findings.append(
            finding("gtld.registrar.abuse", path, "registrar has no nested abuse entity")
        )
    else:
        tels = _vcard_props(abuse[0], "tel")
        voice = any(_has_type(p[1], "voice") for p in tels)
        email = any(isinstance(v, str) and v for v in _vcard_values(abuse[0], "email"))
        if not (voice and email):
            findings.append(
                finding(
                    "gtld.registrar.abuse",
                    f"{path}.entities",
                    "abuse entity lacks a voice tel or an email",
                )
            )
    return findings


def _glue(nameserver: dict[str, object], path: str) -> list[Finding]:
    findings: list[Finding] = []
    addresses = nameserver.get("ipAddresses")
    if not isinstance(addresses, dict):
        return []
    for family in ("v4", "v6"):
        items = addresses.get(family)
        for i, address in enumerate(items if isinstance(items, list) else []):
            problem = values.public_address_problem(address) if isinstance(address, str) else None
            if problem:
                findings.append(
                    finding("gtld.glue.address", f"{path}.ipAddresses.{family}[{i}]", problem)
                )
    return findings


def _nameservers(doc: dict[str, object], kind: str) -> Iterator[tuple[str, dict[str, object]]]:
    if kind == "nameserver":
        yield "$", doc
    groups = [
        ("$.nameservers", doc.get("nameservers")),
        ("$.nameserverSearchResults", doc.get("nameserverSearchResults")),
    ]
    results = doc.get("domainSearchResults")
    for di, domain in enumerate(results if isinstance(results, list) else []):
        if isinstance(domain, dict):
            groups.append((f"$.domainSearchResults[{di}].nameservers", domain.get("nameservers")))
    for base, items in groups:
        for i, ns in enumerate(items if isinstance(items, list) else []):
            if isinstance(ns, dict):
                yield f"{base}[{i}]", ns


def _vcard_props(entity: dict[str, object], name: str) -> list[list[object]]:
    vcard = entity.get("vcardArray")
    if not (isinstance(vcard, list) and len(vcard) == 2 and isinstance(vcard[1], list)):
        return []
    return [p for p in vcard[1] if isinstance(p, list) and len(p) >= 4 and p[0] == name]


def _vcard_values(entity: dict[str, object], name: str) -> list[object]:
    return [p[3] for p in _vcard_props(entity, name) if p[3] not in ("", None)]


def _has_type(params: object, wanted: str) -> bool:
    if not isinstance(params, dict):
        return False
    kinds = params.get("type")
    return kinds == wanted or (isinstance(kinds, list) and wanted in kinds)
