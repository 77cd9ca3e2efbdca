"""Test helper: the finding codes and severities documented in docs/conformance.md."""

from __future__ import annotations

import pathlib
import re

DOC = pathlib.Path(__file__).parents[2] / "docs" / "conformance.md"
_ROW = re.compile(r"\| `([a-z0-9.-]+)` \| ([a-z() /-]+?) \|")


def documented() -> dict[str, set[str]]:
    """Return code -> the severities the documentation allows for it."""
    table: dict[str, set[str]] = {}
    for match in _ROW.finditer(DOC.read_text(encoding="utf-8")):
        table[match.group(1)] = set(re.findall(r"error|warning|info", match.group(2)))
    return table
