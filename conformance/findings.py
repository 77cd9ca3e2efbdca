"""Pure value types for the conformance checker's findings. No I/O."""

from __future__ import annotations

import dataclasses
import enum


class Severity(enum.StrEnum):
    """How bad a finding is; the values are what `--json` prints."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclasses.dataclass(frozen=True, slots=True)
class Finding:
    """One observation about a server's answer.

    `code` is stable (documented in docs/conformance.md); `path` locates the problem (a
    JSONPath into the body, `header:Name`, `line N`, ...); `rfc` cites the exact section of
    the rule (from `conformance.rules`, which also fixes the severity); `url` is the request
    the finding is about, empty when unknown.
    """

    code: str
    severity: Severity
    path: str
    message: str
    rfc: str
    url: str = ""

    def to_json(self) -> dict[str, str]:
        """Return the finding as a JSON-ready mapping."""
        return {
            "code": self.code,
            "severity": str(self.severity),
            "path": self.path,
            "message": self.message,
            "rfc": self.rfc,
            "url": self.url,
        }


def with_url(findings: list[Finding], url: str) -> list[Finding]:
    """Return the findings with `url` filled in where it is empty."""
    return [f if f.url else dataclasses.replace(f, url=url) for f in findings]
