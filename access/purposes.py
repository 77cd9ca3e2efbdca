"""Which purpose a request is made for (RFC 9560 purposes). Pure.

A credential allows a set of purposes. The request names one with `?purpose=NAME`; with
exactly one allowed purpose it may be left out. Leaving it out when several are allowed is a
malformed request (400), naming a purpose the credential does not allow is 403.
"""

from __future__ import annotations

from collections.abc import Iterable

from redaction.policy import PURPOSES
from registry.errors import BadQuery, Forbidden


def parse_list(text: str) -> tuple[str, ...]:
    """A comma-separated purpose list, validated against the RFC 9560 registry; ValueError."""
    items = tuple(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))
    if not items:
        raise ValueError("give at least one purpose")
    unknown = [p for p in items if p not in PURPOSES]
    if unknown:
        raise ValueError(
            f"not an RDAP purpose: {', '.join(unknown)} "
            f"(RFC 9560 registry: {', '.join(sorted(PURPOSES))})"
        )
    return items


def select(allowed: Iterable[str], requested: list[str]) -> str:
    """The purpose of this request, from the credential's allowed set and `?purpose=` values."""
    allowed_set = frozenset(allowed)
    if len(requested) > 1:
        raise BadQuery("Give the purpose parameter at most once.")
    if not allowed_set:
        raise Forbidden("The credential allows no RDAP purpose.")
    if not requested or not requested[0]:
        if len(allowed_set) == 1:
            return next(iter(allowed_set))
        raise BadQuery(
            "This credential allows several purposes: name one with ?purpose= "
            f"({', '.join(sorted(allowed_set))})."
        )
    purpose = requested[0]
    if purpose not in PURPOSES:
        raise BadQuery("The purpose is not an RDAP purpose (RFC 9560 registry).")
    if purpose not in allowed_set:
        raise Forbidden(f"The credential does not allow the purpose {purpose}.")
    return purpose
