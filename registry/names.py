"""Domain-name normalisation (IDNA2008 with UTS #46 mapping, via `idna`). Pure, no I/O.

Every query name, from RDAP paths and WHOIS lines alike, passes through `from_text`, which
either returns a validated `Name` (lower-case A-label plus U-label) or raises `InvalidName`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import idna

from registry.errors import InvalidName

MAX_LABEL_OCTETS = 63  # RFC 1035 §2.3.4
MAX_NAME_OCTETS = 253  # RFC 1035 §2.3.4: 255 on the wire = 253 in text without the root dot

_LDH = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
#: Letters, digits, hyphen and dot only: the names nearly every query asks for.
_ASCII_LDH = re.compile(r"[A-Za-z0-9.-]+")
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\u0085\u00a0\u2028\u2029]")


@dataclass(frozen=True, slots=True)
class Name:
    """A validated domain or host name."""

    ldh: str  # lower-case A-labels, no trailing dot
    unicode: str  # U-labels (equal to ldh for an all-ASCII name)

    @property
    def labels(self) -> tuple[str, ...]:
        """The A-labels, left to right."""
        return tuple(self.ldh.split("."))

    @property
    def tld(self) -> str:
        """The last label (A-label)."""
        return self.ldh.rsplit(".", 1)[-1]

    @property
    def is_idn(self) -> bool:
        """True when any label is an IDN A-label."""
        return self.ldh != self.unicode

    def __str__(self) -> str:
        return self.ldh


@functools.lru_cache(maxsize=4096)
def _check_alabel(lower: str) -> None:
    """Raise InvalidName unless `lower` is a valid A-label in canonical form. Remembered: a
    TLD's label (`xn--mgbtx2b`) is in every name under it, and idna's check costs tens of
    µs (only valid labels are remembered; a refusal is raised again each time)."""
    try:
        ulabel = idna.decode(lower)
        if idna.encode(ulabel).decode("ascii") != lower:
            raise InvalidName("The name has an A-label that is not in canonical form.")
    except idna.IDNAError:
        raise InvalidName("The name has an invalid A-label (bad punycode).") from None


@functools.lru_cache(maxsize=4096)
def _ulabel(label: str) -> str:
    try:
        return idna.decode(label)
    except idna.IDNAError:
        return label


def _label_to_ascii(label: str) -> str:
    if not label:
        raise InvalidName("The name has an empty label.")
    if label.isascii():
        lower = label.lower()
        if lower[2:4] == "--" and not lower.startswith("xn--"):
            # RFC 5891 §4.2.3.1: hyphens in positions 3 and 4 are reserved for A-labels.
            raise InvalidName("The name has a label with reserved hyphens in positions 3 and 4.")
        if lower.startswith("xn--"):
            _check_alabel(lower)
            return lower
        if len(lower) > MAX_LABEL_OCTETS:
            raise InvalidName("The name has a label longer than 63 octets.")
        if not _LDH.match(lower):
            raise InvalidName("The name has a label that is not letters, digits and hyphens.")
        return lower
    try:
        return idna.alabel(label).decode("ascii")
    except idna.IDNAError:
        raise InvalidName("The name has a label that is not a valid IDN.") from None


def from_text(text: str) -> Name:
    """Parse a name as a user typed it: any case, U-labels or A-labels, one trailing dot."""
    if _FORBIDDEN.search(text):
        raise InvalidName("The name contains spaces or control characters.")
    if text.endswith("."):
        text = text[:-1]
    if not text:
        raise InvalidName("The name is empty.")
    if len(text) > 4 * MAX_NAME_OCTETS:
        # Cheap guard before the (more expensive) IDNA mapping of an absurd input.
        raise InvalidName("The name is longer than 253 octets.")
    if _ASCII_LDH.fullmatch(text):
        # UTS #46 maps these characters one by one to their lower case and keeps the rest
        # as they are (tests/unit/test_names.py checks each against `uts46_remap`).
        mapped = text.lower()
    else:
        try:
            # UTS #46 §4: case fold and map (full-width dots and letters), non-transitional.
            mapped = idna.uts46_remap(text, std3_rules=True, transitional=False)
        except idna.IDNAError:
            raise InvalidName("The name contains characters that are not allowed.") from None
    labels = [_label_to_ascii(label) for label in mapped.split(".")]
    for label in labels:
        if len(label) > MAX_LABEL_OCTETS:
            raise InvalidName("The name has a label longer than 63 octets.")
    ldh = ".".join(labels)
    if len(ldh) > MAX_NAME_OCTETS:
        raise InvalidName("The name is longer than 253 octets.")
    return Name(ldh=ldh, unicode=to_unicode(ldh))


def to_unicode(ldh: str) -> str:
    """U-label form of an already validated A-label name (ASCII labels unchanged)."""
    return ".".join(
        _ulabel(label) if label.startswith("xn--") else label for label in ldh.split(".")
    )


def is_valid(text: str) -> bool:
    """True when `from_text` would accept the text."""
    try:
        from_text(text)
    except InvalidName:
        return False
    return True
