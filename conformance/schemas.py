"""Pure JSON Schema validation of RDAP documents against the bundled draft 2020-12 schemas.

The schemas (conformance/schemas/*.json) are package data read once; validation itself does
no I/O.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
from typing import Any, Final

import jsonschema
import referencing
import referencing.jsonschema

from conformance.findings import Finding
from conformance.rules import finding

BASE_URI: Final = "https://rdds.invalid/conformance/schemas/"

# Response kinds, each validated against a $defs entry of response.json.
KINDS: Final = frozenset({"domain", "nameserver", "entity", "search", "help", "error", "other"})

# Cap on schema findings per document: one broken structure repeated in a large search result
# would otherwise drown the report.
MAX_FINDINGS: Final = 50


@functools.cache
def registry() -> referencing.Registry[Any]:
    """Return a registry holding every bundled schema under its $id."""
    resources = []
    folder = importlib.resources.files("conformance") / "schemas"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        contents = json.loads(entry.read_text(encoding="utf-8"))
        resource = referencing.jsonschema.DRAFT202012.create_resource(contents)
        resources.append((contents["$id"], resource))
    return referencing.Registry().with_resources(resources).crawl()


@functools.cache
def validator(kind: str) -> jsonschema.Draft202012Validator:
    """Return a validator for one response kind (see KINDS)."""
    if kind not in KINDS:
        raise ValueError(f"unknown response kind {kind!r}")
    return jsonschema.Draft202012Validator(
        {"$ref": f"{BASE_URI}response.json#/$defs/{kind}"}, registry=registry()
    )


def check(doc: object, kind: str) -> list[Finding]:
    """Validate `doc` as a top-level response of `kind`; one finding per schema violation.

    A member that two subschemas both describe (a notice's link, under the error schema and
    under the common top-level members) is reported once per violation.
    """
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    errors: list[jsonschema.ValidationError] = []
    for err in sorted(validator(kind).iter_errors(doc), key=lambda e: e.json_path):
        if (err.json_path, err.message) not in seen:
            seen.add((err.json_path, err.message))
            errors.append(err)
    for err in errors[:MAX_FINDINGS]:
        findings.append(
            finding(
                "schema.invalid",
                err.json_path,
                f"{err.message} (schema {'/'.join(str(p) for p in err.schema_path)})",
            )
        )
    if len(errors) > MAX_FINDINGS:
        findings.append(
            finding(
                "schema.invalid",
                "$",
                f"{len(errors) - MAX_FINDINGS} more schema violations not shown",
            )
        )
    return findings
