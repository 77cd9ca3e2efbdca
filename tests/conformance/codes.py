"""Test helper: the rule table documented in docs/conformance.md ("Finding codes")."""

from __future__ import annotations

import pathlib
import re

DOC = pathlib.Path(__file__).parents[2] / "docs" / "conformance.md"
# | `code` | severity | what | rule | why this severity |
_ROW = re.compile(
    r"^\| `([a-z0-9.-]+)` \| (error|warning|info) \| .+ \| ([^|]+) \| ([^|]+) \|$", re.M
)


def documented() -> dict[str, tuple[str, str, str]]:
    """Return code -> (severity, citation, strength) as the documentation states them."""
    text = DOC.read_text(encoding="utf-8")
    return {
        m.group(1): (m.group(2), m.group(3).strip(), m.group(4).strip())
        for m in _ROW.finditer(text)
    }
