"""Pure RFC 9083 semantic checks over a parsed RDAP document (beyond the JSON Schemas). No I/O."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator

from conformance import iana, jcard, values
from conformance.findings import Finding
from conformance.rules import finding

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)

# RFC 9083 §5: where object class instances sit, and the objectClassName each must carry.
_OBJECT_ARRAYS: dict[str, str] = {
    "entities": "entity",
    "nameservers": "nameserver",
    "domainSearchResults": "domain",
    "nameserverSearchResults": "nameserver",
    "entitySearchResults": "entity",
    "networks": "ip network",
    "autnums": "autnum",
}
_OBJECT_MEMBERS: dict[str, str] = {"network": "ip network"}
_CLASSES = frozenset({"domain", "nameserver", "entity", "ip network", "autnum"})
_SEARCH_KEYS = ("domainSearchResults", "nameserverSearchResults", "entitySearchResults")

# RFC 9082 §3.1: the lookup path segment that names each object class.
_LOOKUP_SEGMENTS = {"domain": "domain", "nameserver": "nameserver", "entity": "entity"}
_SEARCH_SEGMENTS = frozenset({"domains", "nameservers", "entities"})


def member(path: str, key: str) -> str:
    """Return the JSONPath (RFC 9535 §2.3.1) of member `key` of the node at `path`."""
    if _IDENT.fullmatch(key):
        return f"{path}.{key}"
    return f"{path}[{key!r}]"


def url_kind(request_url: str) -> str | None:
    """Return the response kind a request URL asks for (RFC 9082 §3), or None if unknown."""
    segments = [s for s in urllib.parse.urlsplit(request_url).path.split("/") if s]
    if len(segments) >= 2 and segments[-2] in _LOOKUP_SEGMENTS:
        return _LOOKUP_SEGMENTS[segments[-2]]
    if segments and segments[-1] == "help":
        return "help"
    if segments and segments[-1] in _SEARCH_SEGMENTS:
        return "search"
    return None


def classify(doc: dict[str, object], request_url: str, status: int | None) -> str:
    """Return the response kind of a top-level document (one of schemas.KINDS)."""
    if "errorCode" in doc or (status is not None and status >= 400):
        return "error"
    oclass = doc.get("objectClassName")
    if oclass in ("domain", "nameserver", "entity"):
        return str(oclass)
    if isinstance(oclass, str) and oclass in _CLASSES:
        return "other"
    if any(key in doc for key in _SEARCH_KEYS):
        return "search"
    return url_kind(request_url) or "help"


def check(
    doc: dict[str, object], kind: str, status: int | None, request_url: str = ""
) -> list[Finding]:
    """Run the RFC 9083 semantic checks over a top-level document of `kind`.

    A lookup URL (RFC 9082 §3.1) fixes the object class the answer must carry.
    """
    findings = _conformance(doc)
    if kind == "error" and status is not None:
        code = doc.get("errorCode")
        # RFC 9083 §6: errorCode repeats the HTTP status code.
        if isinstance(code, int) and code != status:
            findings.append(
                finding(
                    "json.error.code", "$.errorCode", f"errorCode {code} but HTTP status {status}"
                )
            )
    lookup = kind in ("domain", "nameserver", "entity")
    if lookup:
        asked = url_kind(request_url)
        expected = asked if asked in _LOOKUP_SEGMENTS else kind
        findings += _object(doc, "$", expected or kind, top=True)
    for key, value in doc.items():
        if not lookup and key in _OBJECT_ARRAYS and isinstance(value, list):
            for i, item in enumerate(value):
                findings += _object(
                    item, f"{member('$', key)}[{i}]", _OBJECT_ARRAYS[key], top=False
                )
    findings += _notices(doc.get("notices"), "$.notices")
    for path, node in _walk(doc, "$"):
        if path == "$":
            continue
        if "rdapConformance" in node:
            # RFC 9083 §4.1: rdapConformance appears only in the top-level object.
            findings.append(
                finding(
                    "json.rdap-conformance.nested",
                    member(path, "rdapConformance"),
                    "rdapConformance below the top level",
                )
            )
        if "notices" in node:
            # RFC 9083 §4.3: notices only in the top-level object; objects carry remarks.
            findings.append(
                finding(
                    "json.notices.nested",
                    member(path, "notices"),
                    "notices below the top level; use remarks",
                )
            )
    findings += _scripts(doc, "$")
    return findings


def _conformance(doc: dict[str, object]) -> list[Finding]:
    declared = doc.get("rdapConformance")
    if declared is None:
        return [finding("json.rdap-conformance.missing", "$", "no rdapConformance member")]
    if not isinstance(declared, list):
        return []  # the schema reports the type
    ids = {v for v in declared if isinstance(v, str)}
    findings: list[Finding] = []
    if "rdap_level_0" not in ids:
        findings.append(
            finding("json.rdap-conformance.level0", "$.rdapConformance", "'rdap_level_0' missing")
        )
    # RFC 9083 §4.1: conformance to custom JSON values MUST be indicated in rdapConformance.
    # An extension member is named PREFIX_NAME (RFC 9083 §2.1); the prefix is declared by an
    # identifier equal to it or versioned from it (`fred` by `fred_version_0`), or the member
    # belongs to a declared identifier (`cidr0_cidrs` to `cidr0`).
    reported: set[str] = set()
    for path, node in _walk(doc, "$"):
        for key in node:
            needed = iana.EXTENSION_MEMBERS.get(key)
            if needed is None and "_" in key.strip("_"):
                if any(key.startswith(i + "_") for i in ids):
                    continue
                needed = key.split("_", 1)[0]
            if needed is None or key in reported:
                continue
            if needed in ids or any(i.startswith(needed + "_") for i in ids):
                continue
            reported.add(key)
            findings.append(
                finding(
                    "json.rdap-conformance.extension",
                    member(path, key),
                    f"member {key!r} used but extension {needed!r} not in rdapConformance",
                )
            )
    return findings


def _object(node: object, path: str, expected: str, *, top: bool) -> list[Finding]:
    if not isinstance(node, dict):
        return []  # the schema reports it
    oclass = node.get("objectClassName")
    findings: list[Finding] = []
    # RFC 9083 §4.9: every object class instance names its class, embedded ones too.
    if oclass is None:
        findings.append(
            finding(
                "json.object-class-name.missing",
                path,
                f"no objectClassName (expected {expected!r})",
            )
        )
    elif oclass != expected:
        findings.append(
            finding(
                "json.object-class-name.invalid",
                member(path, "objectClassName"),
                f"{oclass!r} where {expected!r} belongs",
            )
        )
    findings += _self_link(node, path, top=top)
    findings += _events(node.get("events"), member(path, "events"))
    findings += _events(node.get("asEventActor"), member(path, "asEventActor"))
    findings += _status(
        node.get("status"), member(path, "status"), combination=expected == "domain"
    )
    findings += _notices(node.get("remarks"), member(path, "remarks"))
    findings += _links(node.get("links"), member(path, "links"))
    if expected in ("domain", "nameserver"):
        findings += _names(node, path)
    if expected == "domain":
        findings += _secure_dns(node.get("secureDNS"), member(path, "secureDNS"))
        variants = node.get("variants")
        for vi, variant in enumerate(variants if isinstance(variants, list) else []):
            names = variant.get("variantNames") if isinstance(variant, dict) else None
            for ni, name in enumerate(names if isinstance(names, list) else []):
                if isinstance(name, dict):
                    findings += _names(name, f"{path}.variants[{vi}].variantNames[{ni}]")
    if expected == "nameserver":
        findings += _addresses(node.get("ipAddresses"), member(path, "ipAddresses"))
    if expected == "entity":
        roles = node.get("roles")
        for ri, role in enumerate(roles if isinstance(roles, list) else []):
            if isinstance(role, str) and role not in iana.ROLES:
                findings.append(
                    finding(
                        "json.role.value",
                        f"{path}.roles[{ri}]",
                        f"{role!r} is not a registered role",
                    )
                )
        if "vcardArray" in node:
            findings += jcard.check(node["vcardArray"], member(path, "vcardArray"))
    for key, value in node.items():
        if key in _OBJECT_ARRAYS and isinstance(value, list):
            for i, item in enumerate(value):
                findings += _object(
                    item, f"{member(path, key)}[{i}]", _OBJECT_ARRAYS[key], top=False
                )
        elif key in _OBJECT_MEMBERS:
            findings += _object(value, member(path, key), _OBJECT_MEMBERS[key], top=False)
    return findings


def _self_link(node: dict[str, object], path: str, *, top: bool) -> list[Finding]:
    links = node.get("links")
    selves = [
        (i, lk)
        for i, lk in enumerate(links if isinstance(links, list) else [])
        if isinstance(lk, dict) and lk.get("rel") == "self"
    ]
    if not selves:
        # RFC 9083 §5: servers SHOULD give every object class instance a self link, the URI
        # of that instance. An entity without a handle has no such URI (RFC 9082 §3.1.5
        # looks entities up by handle): there is nothing to link to, so nothing to report.
        if node.get("objectClassName") == "entity" and not node.get("handle"):
            return []
        where = "queried object" if top else "embedded object"
        return [finding("json.link.self", path, f"{where} has no self link")]
    findings: list[Finding] = []
    for i, link in selves:
        if link.get("type") != iana.RDAP_MEDIA_TYPE:
            findings.append(
                finding(
                    "json.link.self-type",
                    member(path, "links") + f"[{i}]",
                    f"self link type {link.get('type')!r} is not {iana.RDAP_MEDIA_TYPE}",
                )
            )
    return findings


def _links(links: object, path: str) -> list[Finding]:
    findings: list[Finding] = []
    for i, link in enumerate(links if isinstance(links, list) else []):
        if not isinstance(link, dict):
            continue
        for key in ("value", "href"):
            target = link.get(key)
            if isinstance(target, str) and not urllib.parse.urlsplit(target).scheme:
                # RFC 8288 §3.1/§3.2: link targets and contexts are URI references resolved to
                # absolute URIs; RDAP has no base to resolve against, so they are absolute.
                findings.append(
                    finding(
                        "json.link.uri", f"{path}[{i}].{key}", f"{target!r} is not an absolute URI"
                    )
                )
    return findings


def _events(events: object, path: str) -> list[Finding]:
    findings: list[Finding] = []
    for i, event in enumerate(events if isinstance(events, list) else []):
        if not isinstance(event, dict):
            continue
        action, date = event.get("eventAction"), event.get("eventDate")
        if isinstance(action, str) and action not in iana.EVENT_ACTIONS:
            findings.append(
                finding(
                    "json.event.action",
                    f"{path}[{i}].eventAction",
                    f"{action!r} is not a registered event action",
                )
            )
        problem = values.rfc3339_problem(date) if isinstance(date, str) else None
        if problem:
            findings.append(finding("json.date", f"{path}[{i}].eventDate", problem))
        findings += _links(event.get("links"), f"{path}[{i}].links")
    return findings


def _status(status: object, path: str, *, combination: bool) -> list[Finding]:
    if not isinstance(status, list):
        return []
    findings: list[Finding] = []
    for i, value in enumerate(status):
        if isinstance(value, str) and value not in iana.STATUSES:
            findings.append(
                finding(
                    "json.status.value", f"{path}[{i}]", f"{value!r} is not a registered status"
                )
            )
    if combination:
        for problem in values.status_problems(v for v in status if isinstance(v, str)):
            findings.append(finding("json.status.combination", path, problem))
    return findings


def _notices(notices: object, path: str) -> list[Finding]:
    findings: list[Finding] = []
    for i, notice in enumerate(notices if isinstance(notices, list) else []):
        if not isinstance(notice, dict):
            continue
        kind = notice.get("type")
        if isinstance(kind, str) and kind not in iana.NOTICE_TYPES:
            findings.append(
                finding(
                    "json.notice.type",
                    f"{path}[{i}].type",
                    f"{kind!r} is not a registered notice or remark type",
                )
            )
        findings += _links(notice.get("links"), f"{path}[{i}].links")
    return findings


def _names(node: dict[str, object], path: str) -> list[Finding]:
    ldh = node.get("ldhName")
    if not isinstance(ldh, str):
        return []
    problem = values.ldh_name_problem(ldh)
    if problem:
        return [finding("json.ldh-name", member(path, "ldhName"), problem)]
    findings: list[Finding] = []
    note = values.ldh_case_problem(ldh)
    if note:
        findings.append(finding("json.ldh-name.case", member(path, "ldhName"), note))
    uname = node.get("unicodeName")
    problem = values.unicode_name_problem(ldh, uname) if isinstance(uname, str) else None
    if problem:
        findings.append(finding("json.unicode-name", member(path, "unicodeName"), problem))
    return findings


def _addresses(addresses: object, path: str) -> list[Finding]:
    if not isinstance(addresses, dict):
        return []
    findings: list[Finding] = []
    for family, version in (("v4", 4), ("v6", 6)):
        items = addresses.get(family)
        for i, address in enumerate(items if isinstance(items, list) else []):
            if not isinstance(address, str):
                continue
            problem = values.ip_problem(address, version)
            if problem:
                findings.append(finding("json.ip-address", f"{path}.{family}[{i}]", problem))
            elif note := values.ip_form_problem(address):
                findings.append(finding("json.ip-address.form", f"{path}.{family}[{i}]", note))
    return findings


def _secure_dns(secure: object, path: str) -> list[Finding]:
    if not isinstance(secure, dict):
        return []
    findings: list[Finding] = []
    for key in ("dsData", "keyData"):
        records = secure.get(key)
        for i, record in enumerate(records if isinstance(records, list) else []):
            if isinstance(record, dict):
                findings += _events(record.get("events"), f"{path}.{key}[{i}].events")
                findings += _links(record.get("links"), f"{path}.{key}[{i}].links")
    if secure.get("delegationSigned") is not True or secure.get("dsData") or secure.get("keyData"):
        return findings
    return [
        *findings,
        finding("json.secure-dns", path, "delegationSigned is true but no dsData or keyData"),
    ]


def _walk(node: object, path: str) -> Iterator[tuple[str, dict[str, object]]]:
    """Yield every JSON object under `node` with its JSONPath, skipping jCard contents."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            if key != "vcardArray":
                yield from _walk(value, member(path, key))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _walk(item, f"{path}[{i}]")


def _scripts(node: object, path: str) -> list[Finding]:
    # Defence in depth for web clients that render RDAP: no markup that could run script.
    found: list[Finding] = []
    stack: list[tuple[object, str]] = [(node, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if "<script" in item.lower():
                found.append(finding("json.script", where, "text contains '<script'"))
        elif isinstance(item, list):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(item))
        elif isinstance(item, dict):
            for key, value in item.items():
                if "<script" in key.lower():
                    found.append(finding("json.script", where, "member name contains '<script'"))
                stack.append((value, member(where, key)))
    return sorted(found, key=lambda f: f.path)
