"""Pure checks of the RFC 9537 `redacted` member against the served document. No I/O."""

from __future__ import annotations

from typing import cast

import jsonpath_rfc9535

from conformance import iana
from conformance.findings import Finding
from conformance.rules import finding

_PATHS = ("prePath", "postPath", "replacementPath")


def check(doc: object, redacted: object) -> list[Finding]:
    """Check every entry of a top-level `redacted` array against `doc`, the served document."""
    if not isinstance(redacted, list):
        return []  # the schema reports the shape
    findings: list[Finding] = []
    for index, entry in enumerate(redacted):
        if isinstance(entry, dict):
            findings.extend(_entry(doc, entry, f"$.redacted[{index}]"))
    return findings


def _entry(doc: object, entry: dict[str, object], path: str) -> list[Finding]:
    findings: list[Finding] = []
    name = entry.get("name")
    if isinstance(name, dict):
        kind = name.get("type")
        # RFC 9537 §4.2: `type` holds a registered redacted name; anything else is a
        # free-text `description`.
        if isinstance(kind, str) and kind not in iana.REDACTED_NAMES:
            findings.append(
                finding(
                    "redacted.name",
                    f"{path}.name.type",
                    f"{kind!r} is not a registered redacted name; use name.description",
                )
            )
    lang = entry.get("pathLang", "jsonpath")
    if lang != "jsonpath":
        findings.append(
            finding(
                "redacted.path-lang",
                f"{path}.pathLang",
                f"pathLang {lang!r} is not jsonpath; paths not evaluated",
            )
        )
        return findings
    paths: dict[str, str] = {}
    for key in _PATHS:
        expr = entry.get(key)
        if not isinstance(expr, str):
            continue
        try:
            jsonpath_rfc9535.compile(expr)
        except jsonpath_rfc9535.JSONPathError as exc:
            findings.append(
                finding(
                    "redacted.path.syntax",
                    f"{path}.{key}",
                    f"{expr!r} is not an RFC 9535 JSONPath: {exc}",
                )
            )
        else:
            paths[key] = expr
    if findings and any(f.code == "redacted.path.syntax" for f in findings):
        return findings
    method = entry.get("method", "removal")  # RFC 9537 §4.2: removal is the default
    if isinstance(method, str):
        findings.extend(_method(doc, method, entry, paths, path))
    return findings


def _method(
    doc: object, method: str, entry: dict[str, object], paths: dict[str, str], path: str
) -> list[Finding]:
    # RFC 9537 §3: which path describes the served document depends on the method.
    if method == "removal":
        wanted = ["prePath"]
    elif method == "emptyValue":
        wanted = ["postPath", "prePath"]
    elif method == "partialValue":
        wanted = ["postPath"]
    elif method == "replacementValue":
        wanted = ["replacementPath", "postPath", "prePath"]
    else:
        return []  # the schema reports unknown methods
    key = next((k for k in wanted if k in paths), None)
    if key is None:
        if any(k in entry for k in wanted):
            return []  # a path is present but is not a string: the schema reports it
        return [
            finding(
                "redacted.path.missing",
                path,
                f"method {method} needs {' or '.join(wanted)} to locate the redacted field",
            )
        ]
    try:
        found = jsonpath_rfc9535.find(paths[key], cast(jsonpath_rfc9535.JSONValue, doc)).values()
    except jsonpath_rfc9535.JSONPathError as exc:
        return [finding("redacted.path.syntax", f"{path}.{key}", str(exc))]
    problem: str | None = None
    if method == "removal" and found:
        problem = f"removal, yet prePath selects {len(found)} value(s) in the served document"
    elif method == "emptyValue" and (not found or any(v != "" for v in found)):
        problem = (
            f"emptyValue, yet {key} selects "
            + (", ".join(repr(v) for v in found[:3]) if found else "nothing")
            + " instead of only empty strings"
        )
    elif method in ("partialValue", "replacementValue") and not found:
        problem = f"{method}, yet {key} selects nothing in the served document"
    if problem is None:
        return []
    return [finding("redacted.path.method-mismatch", f"{path}.{key}", problem)]


def declared_removed_cc(doc: object) -> set[tuple[str | int, ...]]:
    """Locations of `adr` properties whose `cc` parameter a removal entry declares withheld.

    RFC 9537 lets a server remove the country (an at-risk registrant's location) as long as
    `redacted` says so; such an adr without `cc` is conformant.
    """
    out: set[tuple[str | int, ...]] = set()
    entries = doc.get("redacted") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        return out
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("method", "removal") != "removal":
            continue
        pre = entry.get("prePath")
        if not isinstance(pre, str) or not pre.endswith(".cc"):
            continue
        try:
            nodes = jsonpath_rfc9535.find(pre[: -len(".cc")], cast(jsonpath_rfc9535.JSONValue, doc))
        except jsonpath_rfc9535.JSONPathError:
            continue
        # The path selects the adr parameters object: its parent is the adr property.
        out |= {tuple(node.location[:-1]) for node in nodes if isinstance(node.value, dict)}
    return out
