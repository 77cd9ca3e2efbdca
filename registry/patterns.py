"""Search patterns (RFC 9082 §4.1): a search value as received -> a validated pattern value.
Pure, no I/O.

RFC 9082 §4.1 defines one partial-match form: an asterisk matching zero or more trailing
characters of a label, optionally followed by a label suffix (`exam*.coop`), with at most one
asterisk per pattern. Any other use of `*` is a style of partial matching this server does
not support (422, RFC 9082 §4.1); a malformed value is 400. Limits that depend on the
deployment (how many literal characters a wildcard needs) are applied by the search core.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import idna
from idna import idnadata, intranges

from registry import names
from registry.errors import BadQuery, InvalidName, UnsupportedPattern

WILDCARD = "*"
#: Longest text pattern accepted (a name, an email address, a handle, an address line).
MAX_TEXT = 255

_PVALID = (
    idnadata.codepoint_classes["PVALID"],
    idnadata.codepoint_classes["CONTEXTJ"],
    idnadata.codepoint_classes["CONTEXTO"],
)
_LDH_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def fold(text: str) -> str:
    """The comparison form of a searchable text value (names, emails, addresses, handles):
    case-folded after Unicode NFC, so `Ölaf`, `ölaf` and a decomposed `Ölaf` compare equal.
    Writers store this form in the replica's search key columns."""
    return unicodedata.normalize("NFC", text).casefold()


def addr_text(street: Sequence[str], city: str, pc: str | None) -> str:
    """The text an address (`addr`) search compares: the street lines, the city and the
    postal code, joined by ", " (the replica's addr key holds it `fold`ed). A part the
    address lacks is left out, not joined as an empty one (docs/search.md: an address
    matches on the parts it has)."""
    return ", ".join(part for part in (*street, city, pc or "") if part)


def upper_bound(prefix: str) -> str | None:
    """The smallest string above every string starting with `prefix` (for an index range
    `prefix <= key < bound`), or None when there is none (empty prefix, or a prefix ending in
    the last code point)."""
    if not prefix or prefix[-1] == "\U0010ffff":
        return None
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


@dataclass(frozen=True, slots=True)
class NamePattern:
    """A domain or host name pattern: lower-case A-labels, except that the wildcard label
    holds only its prefix (the text before `*`), in U-label form when it is not ASCII."""

    labels: tuple[str, ...]
    #: Index of the label that ends in `*`; None for an exact name.
    wildcard: int | None = None

    @property
    def exact(self) -> bool:
        """True when the pattern has no wildcard."""
        return self.wildcard is None

    @property
    def ldh(self) -> str:
        """The name of an exact pattern (lower-case A-labels)."""
        assert self.wildcard is None
        return ".".join(self.labels)

    @property
    def prefix(self) -> str:
        """The wildcard label's literal prefix ("" for an exact pattern)."""
        return "" if self.wildcard is None else self.labels[self.wildcard]

    @property
    def unicode_prefix(self) -> bool:
        """True when the wildcard label's prefix is in U-label form (not ASCII): it can only
        be compared with names in U-label form."""
        return not self.prefix.isascii()

    @property
    def before(self) -> tuple[str, ...]:
        """The literal labels left of the wildcard label."""
        return self.labels if self.wildcard is None else self.labels[: self.wildcard]

    @property
    def after(self) -> tuple[str, ...]:
        """The literal labels right of the wildcard label (the label suffix)."""
        return () if self.wildcard is None else self.labels[self.wildcard + 1 :]

    @property
    def forward_literal(self) -> str:
        """Everything before the `*`: the literal an index on names in text order can use."""
        if self.wildcard is None:
            return self.ldh
        return ".".join((*self.before, self.prefix))

    @property
    def reverse_literal(self) -> str:
        """The label suffix reversed, then the wildcard label's prefix: the literal an index
        on names with their labels reversed can use (`ns1*.example.coop` -> `coop.example.ns1`)."""
        if self.wildcard is None:
            return reverse_labels(self.ldh)
        return ".".join((*reversed(self.after), self.prefix))

    @property
    def text(self) -> str:
        """The canonical form (what the answer echoes and a cursor is bound to)."""
        if self.wildcard is None:
            return self.ldh
        out = list(self.labels)
        out[self.wildcard] += WILDCARD
        return ".".join(out)

    def matches(self, ldh: str, unicode: str | None = None) -> bool:
        """True when a name (lower-case A-labels, and its U-label form) matches. A U-label
        prefix is compared with the U-label form of the same label. With no label suffix the
        `*` also covers any labels that follow (RFC 9082 §4.1: `exam*` matches example.com)."""
        labels = ldh.split(".")
        if self.wildcard is None:
            return tuple(labels) == self.labels
        if self.after and len(labels) != len(self.labels):
            return False
        if len(labels) < len(self.labels):
            return False
        w = self.wildcard
        if tuple(labels[:w]) != self.before or tuple(labels[w + 1 : w + 1 + len(self.after)]) != (
            self.after
        ):
            return False
        if not self.unicode_prefix:
            return labels[w].startswith(self.prefix)
        ulabels = (unicode or names.to_unicode(ldh)).split(".")
        return len(ulabels) == len(labels) and ulabels[w].startswith(self.prefix)


def reverse_labels(ldh: str) -> str:
    """A name with its labels in reverse order (`ns1.example.coop` -> `coop.example.ns1`):
    the key of the replica's reversed-name index, where a label suffix is a prefix."""
    return ".".join(reversed(ldh.split(".")))


def _prefix_label(raw: str) -> str:
    """The literal part of a wildcard label: ASCII lower-cased and LDH-checked, otherwise
    mapped (UTS #46) and checked code point by code point against IDNA2008."""
    if not raw:
        return ""
    if raw.isascii():
        lower = raw.lower()
        if not set(lower) <= _LDH_CHARS or lower.startswith("-"):
            raise InvalidName("The pattern has a label that is not letters, digits and hyphens.")
        if len(lower) > names.MAX_LABEL_OCTETS:
            raise InvalidName("The pattern has a label longer than 63 octets.")
        return lower
    try:
        mapped = idna.uts46_remap(raw, std3_rules=True, transitional=False)
    except idna.IDNAError:
        raise InvalidName("The pattern contains characters that are not allowed.") from None
    mapped = unicodedata.normalize("NFC", mapped)
    for ch in mapped:
        if ch.isascii():
            if ch not in _LDH_CHARS:
                raise InvalidName("The pattern contains characters that are not allowed.")
        elif not any(intranges.intranges_contain(ord(ch), table) for table in _PVALID):
            raise InvalidName("The pattern contains characters that are not allowed in IDNs.")
    if unicodedata.combining(mapped[0]):
        raise InvalidName("The pattern has a label that starts with a combining mark.")
    return mapped


def parse_name(text: str) -> NamePattern:
    """Parse a domain or host name pattern as a user typed it: any case, U-labels or
    A-labels, one trailing dot; `*` only at the end of one label (RFC 9082 §4.1)."""
    if not text:
        raise InvalidName("The pattern is empty.")
    if len(text) > 4 * names.MAX_NAME_OCTETS:
        raise InvalidName("The pattern is longer than 253 octets.")
    count = text.count(WILDCARD)
    if count == 0:
        name = names.from_text(text)
        return NamePattern(name.labels)
    if count > 1:
        # RFC 9082 §4.1: a pattern MUST NOT include more than one asterisk.
        raise UnsupportedPattern("A search pattern may contain only one '*'.")
    if text.endswith("."):
        text = text[:-1]  # one trailing dot, as in names.from_text
    raw = text.split(".")
    where = next(i for i, label in enumerate(raw) if WILDCARD in label)
    if not raw[where].endswith(WILDCARD):
        raise UnsupportedPattern(
            "'*' matches trailing characters of a label only: put it at the end of the label "
            "(for example exam*.coop)."
        )
    labels: list[str] = []
    for i, label in enumerate(raw):
        if i == where:
            labels.append(_prefix_label(label[:-1]))
        elif not label:
            raise InvalidName("The pattern has an empty label.")
        else:
            labels.append(names.from_text(label).ldh)  # one label: A-label, validated
    total = sum(len(label) + 1 for label in labels)
    if total > names.MAX_NAME_OCTETS + 1:
        raise InvalidName("The pattern is longer than 253 octets.")
    return NamePattern(tuple(labels), where)


@dataclass(frozen=True, slots=True)
class TextPattern:
    """A pattern over a text value (an entity's name, handle, email, address): an exact
    value or a prefix followed by `*`, compared in `fold`ed form."""

    literal: str  # folded
    wildcard: bool = False

    @property
    def text(self) -> str:
        """The canonical form (folded; what a cursor is bound to)."""
        return self.literal + (WILDCARD if self.wildcard else "")

    def matches(self, value: str | None) -> bool:
        """True when the value matches (compared in `fold`ed form)."""
        if not value:
            return False
        folded = fold(value)
        return folded.startswith(self.literal) if self.wildcard else folded == self.literal


def parse_text(text: str) -> TextPattern:
    """Parse a text pattern: a value, or a value followed by one trailing `*`."""
    if len(text) > MAX_TEXT:
        raise BadQuery(f"The search pattern is longer than {MAX_TEXT} characters.")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in text):
        raise BadQuery("The search pattern contains control or unassigned characters.")
    count = text.count(WILDCARD)
    if count > 1 or (count == 1 and not text.endswith(WILDCARD)):
        raise UnsupportedPattern(
            "'*' is supported once, at the end of the pattern (for example Ana*)."
        )
    if count:
        # Spaces before the '*' are part of the prefix: "Ana *" does not match "Anaïs".
        return TextPattern(fold(text[:-1].lstrip()), wildcard=True)
    literal = text.strip()
    if not literal:
        raise BadQuery("The search pattern is empty.")
    return TextPattern(fold(literal))
