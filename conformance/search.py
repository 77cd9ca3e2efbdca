"""Pure checks of search answers beyond their schemas: results member, paging (RFC 8977 §2.4),
sorting (RFC 8977 §2.3), partial responses (RFC 8982) and reverse search (RFC 9536). No I/O.
"""

from __future__ import annotations

import urllib.parse

import jsonpath_rfc9535

from conformance import iana
from conformance.findings import Finding
from conformance.rules import finding

RESULT_MEMBERS = ("domainSearchResults", "nameserverSearchResults", "entitySearchResults")

# RFC 9082 §3.2 and RFC 9536 §3: the results member each search path answers with.
_MEMBER_FOR_PATH = {
    "domains": "domainSearchResults",
    "nameservers": "nameserverSearchResults",
    "entities": "entitySearchResults",
}

# RFC 8982 §4.1: what an object holds in the `id` field set (the key, and for names their
# Unicode form), besides its objectClassName.
_ID_MEMBERS = {
    "domain": {"objectClassName", "ldhName", "unicodeName", "handle"},
    "nameserver": {"objectClassName", "ldhName", "unicodeName", "handle"},
    "entity": {"objectClassName", "handle"},
}


def expected_member(request_url: str) -> str | None:
    """The results member the request URL's search path calls for (None: not a search URL)."""
    segments = [s for s in urllib.parse.urlsplit(request_url).path.split("/") if s]
    if len(segments) >= 3 and segments[-2] == "reverse_search":
        # RFC 9536 §3: {searchable}/reverse_search/{related}: the results are the searchable.
        return _MEMBER_FOR_PATH.get(segments[-3])
    if segments:
        return _MEMBER_FOR_PATH.get(segments[-1])
    return None


def is_reverse(request_url: str) -> bool:
    """True for an RFC 9536 reverse search URL."""
    segments = [s for s in urllib.parse.urlsplit(request_url).path.split("/") if s]
    return len(segments) >= 3 and segments[-2] == "reverse_search"


def field_set(doc: dict[str, object]) -> str | None:
    """The field set a search answer says it is in (RFC 8982 §3), if it says."""
    meta = doc.get("subsetting_metadata")
    current = meta.get("currentFieldSet") if isinstance(meta, dict) else None
    return current if isinstance(current, str) else None


def _results(doc: dict[str, object]) -> list[tuple[str, int, object]]:
    out: list[tuple[str, int, object]] = []
    for key in RESULT_MEMBERS:
        items = doc.get(key)
        if isinstance(items, list):
            out += [(key, i, item) for i, item in enumerate(items)]
    return out


def check(doc: dict[str, object], request_url: str) -> list[Finding]:
    """Check a search answer (its schema is checked elsewhere)."""
    findings: list[Finding] = []
    wanted = expected_member(request_url)
    present = [k for k in RESULT_MEMBERS if k in doc]
    if wanted is not None and present and wanted not in present:
        findings.append(
            finding(
                "search.results-member",
                "$",
                f"{present[0]} where this search answers with {wanted}",
            )
        )
    count = len(_results(doc))
    findings += _paging(doc.get("paging_metadata"), count)
    findings += _sorting(doc.get("sorting_metadata"))
    findings += _subsetting(doc, doc.get("subsetting_metadata"))
    if is_reverse(request_url):
        findings += _mapping(doc.get("reverse_search_properties_mapping"))
    return findings


def _paging(meta: object, count: int) -> list[Finding]:
    if not isinstance(meta, dict):
        return []
    findings: list[Finding] = []
    total, size = meta.get("totalCount"), meta.get("pageSize")
    # RFC 8977 §2.4.1: totalCount is every object found; pageSize the objects per page.
    if isinstance(total, int) and not isinstance(total, bool) and total < count:
        findings.append(
            finding(
                "search.paging.count",
                "$.paging_metadata.totalCount",
                f"totalCount {total} but {count} objects in this page",
            )
        )
    if isinstance(size, int) and not isinstance(size, bool) and count > size:
        findings.append(
            finding(
                "search.paging.page-size",
                "$.paging_metadata.pageSize",
                f"pageSize {size} but {count} objects in this page",
            )
        )
    links = meta.get("links")
    for i, link in enumerate(links if isinstance(links, list) else []):
        if isinstance(link, dict) and link.get("rel") not in ("next", "prev", "first", "last"):
            findings.append(
                finding(
                    "search.paging.link-rel",
                    f"$.paging_metadata.links[{i}].rel",
                    f"paging link rel {link.get('rel')!r} is not a pagination relation",
                )
            )
    return findings


def _sorting(meta: object) -> list[Finding]:
    if not isinstance(meta, dict):
        return []
    findings: list[Finding] = []
    available = meta.get("availableSorts")
    sorts = [s for s in (available if isinstance(available, list) else []) if isinstance(s, dict)]
    defaults = [i for i, s in enumerate(sorts) if s.get("default") is True]
    if len(defaults) > 1:
        findings.append(
            finding(
                "search.sorting.default",
                "$.sorting_metadata.availableSorts",
                f"{len(defaults)} sort properties are marked default",
            )
        )
    for i, sort in enumerate(sorts):
        path = sort.get("jsonPath")
        if not isinstance(path, str):
            continue
        try:
            jsonpath_rfc9535.compile(path)
        except jsonpath_rfc9535.JSONPathError as exc:
            findings.append(
                finding(
                    "search.sorting.json-path",
                    f"$.sorting_metadata.availableSorts[{i}].jsonPath",
                    f"not an RFC 9535 JSONPath: {exc}",
                )
            )
    return findings


def _subsetting(doc: dict[str, object], meta: object) -> list[Finding]:
    if not isinstance(meta, dict):
        return []
    findings: list[Finding] = []
    current = meta.get("currentFieldSet")
    available = meta.get("availableFieldSets")
    sets = [s for s in (available if isinstance(available, list) else []) if isinstance(s, dict)]
    names = {s.get("name") for s in sets}
    if isinstance(current, str) and sets and current not in names:
        findings.append(
            finding(
                "search.subsetting.current",
                "$.subsetting_metadata.currentFieldSet",
                f"field set {current!r} is not among availableFieldSets",
            )
        )
    # RFC 8982 §4: id, brief and full are the basic field sets every server supporting
    # partial responses provides.
    missing = sorted(iana.FIELD_SETS - {n for n in names if isinstance(n, str)})
    if sets and missing:
        findings.append(
            finding(
                "search.subsetting.basic",
                "$.subsetting_metadata.availableFieldSets",
                f"basic field set(s) {', '.join(missing)} not offered",
            )
        )
    if current == "id":
        for key, i, item in _results(doc):
            if not isinstance(item, dict):
                continue
            kind = item.get("objectClassName")
            allowed = _ID_MEMBERS.get(kind if isinstance(kind, str) else "", set())
            extra = sorted(set(item) - allowed)
            if allowed and extra:
                findings.append(
                    finding(
                        "search.subsetting.id",
                        f"$.{key}[{i}]",
                        f"the id field set holds only the key; also has {', '.join(extra)}",
                    )
                )
    return findings


def _mapping(mapping: object) -> list[Finding]:
    findings: list[Finding] = []
    for i, entry in enumerate(mapping if isinstance(mapping, list) else []):
        if not isinstance(entry, dict):
            continue
        prop, path = entry.get("property"), entry.get("propertyPath")
        if not isinstance(path, str):
            continue
        try:
            jsonpath_rfc9535.compile(path)
        except jsonpath_rfc9535.JSONPathError as exc:
            findings.append(
                finding(
                    "search.reverse.mapping",
                    f"$.reverse_search_properties_mapping[{i}].propertyPath",
                    f"not an RFC 9535 JSONPath: {exc}",
                )
            )
            continue
        registered = iana.REVERSE_SEARCH_PATHS.get(prop) if isinstance(prop, str) else None
        if registered is not None and path != registered:
            findings.append(
                finding(
                    "search.reverse.mapping",
                    f"$.reverse_search_properties_mapping[{i}].propertyPath",
                    f"{prop!r} mapped to {path!r}; the IANA registry maps it to {registered!r}",
                )
            )
    return findings
