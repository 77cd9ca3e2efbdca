"""The disclosure log's records and hash chain: canonical serialization, verification and
the transparency report. Pure (the caller reads and writes the files).

Canonical form (one record per line, UTF-8, ending in "\\n"):

    line   = canonical(record)                     # every member, "hash" included
    hash   = sha256(canonical(record minus "hash")).hexdigest()
    canonical(x) = json.dumps(x, sort_keys=True, separators=(",", ":"), ensure_ascii=True)

Members: seq (1, 2, ...), time (RFC 3339 UTC, microseconds, "Z"), credential, organisation,
tier, purpose, issuer (null for credentials issued by `rdds credential add`), object
("domain/example.org"), fields (the RFC 9537 names of the withheld fields shown, sorted; never
their values), body_sha256 (hex digest of the exact response body sent), prev (the previous
record's hash; 64 zeros for the first), hash. Any edit, insertion, deletion or reordering
changes a hash or a sequence number; deleting the newest records is only visible against the
anchor (count and head hash kept in a separate file), which every data directory holds from
the moment it is set up (count 0: the genesis anchor). Rewriting the whole log and anchor
consistently is only visible against a head hash noted off the machine (`expect_head`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
KEYS = frozenset(
    {
        "seq",
        "time",
        "credential",
        "organisation",
        "tier",
        "purpose",
        "issuer",
        "object",
        "fields",
        "body_sha256",
        "prev",
        "hash",
    }
)
_HEX = frozenset("0123456789abcdef")
#: Records an intact log can hold beyond its anchor's count: the one an append that crashed
#: before rewriting the anchor left (the next append rewrites it).
MAX_BEYOND_ANCHOR = 1


@dataclass(frozen=True, slots=True)
class Disclosure:
    """What one disclosure record says (before it is chained)."""

    time: dt.datetime
    credential: str | None
    organisation: str | None
    tier: str
    purpose: str | None
    issuer: str | None
    object: str
    fields: tuple[str, ...]
    body_sha256: str


@dataclass(frozen=True, slots=True)
class Anchor:
    """The chain's head as last written: how many records, and the newest record's hash."""

    count: int
    head: str


@dataclass(frozen=True, slots=True)
class Problem:
    """The first thing wrong with a log: which line (1-based; 0 when it is about the log as a
    whole) and what."""

    line: int
    message: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """The result of verifying a log: count and head of the good prefix, and any problem."""

    count: int
    head: str
    problem: Problem | None = None
    #: Records after the anchor's count whose chain is intact (a crash between the append and
    #: the anchor update leaves one); reported, not fatal.
    beyond_anchor: int = 0
    #: The record whose hash is the expected head (0 for the genesis hash), when one is given.
    expected_at: int | None = None

    @property
    def ok(self) -> bool:
        """True when the whole log checks out."""
        return self.problem is None


def canonical(value: Mapping[str, Any]) -> bytes:
    """The one byte form hashed and written (sorted keys, no spaces, ASCII only)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode(
        "ascii"
    )


def format_time(when: dt.datetime) -> str:
    """RFC 3339 UTC with microseconds and "Z" (fixed width, so text order is time order)."""
    if when.tzinfo is None:
        raise ValueError("disclosure time must be timezone-aware")
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_hash(record: Mapping[str, Any]) -> str:
    """The hash of a record: SHA-256 over the canonical form of every member but "hash"."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


def make_record(disclosure: Disclosure, seq: int, prev: str) -> dict[str, Any]:
    """Chain a disclosure after the record whose hash is `prev`."""
    record: dict[str, Any] = {
        "seq": seq,
        "time": format_time(disclosure.time),
        "credential": disclosure.credential,
        "organisation": disclosure.organisation,
        "tier": disclosure.tier,
        "purpose": disclosure.purpose,
        "issuer": disclosure.issuer,
        "object": disclosure.object,
        "fields": sorted(disclosure.fields),
        "body_sha256": disclosure.body_sha256,
        "prev": prev,
    }
    record["hash"] = record_hash(record)
    return record


def line(record: Mapping[str, Any]) -> bytes:
    """A record as written: its canonical form and a newline."""
    return canonical(record) + b"\n"


def parse_line(raw: bytes) -> dict[str, Any] | None:
    """A record from a line (without its newline), or None unless canonical and well formed."""
    try:
        value = json.loads(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(value, dict) or set(value) != KEYS:
        return None
    if canonical(value) != raw:
        return None  # not the canonical bytes: edited by hand (even whitespace counts)
    if not isinstance(value["seq"], int) or isinstance(value["seq"], bool):
        return None
    for key in ("prev", "hash", "body_sha256"):
        v = value[key]
        if not (isinstance(v, str) and len(v) == 64 and set(v) <= _HEX):
            return None
    if not isinstance(value["fields"], list) or not isinstance(value["time"], str):
        return None
    return value


def verify(
    lines: Iterable[bytes],
    anchor: Anchor | None,
    expect_head: str | None = None,
    *,
    max_beyond: int = MAX_BEYOND_ANCHOR,
) -> Verdict:
    """Check every record's hash, the chain of `prev` hashes, the sequence, the anchor, and
    that the log still holds the record whose hash is `expect_head` (a head noted earlier).

    `lines` are the log's lines without their newlines (a torn last line, one that did not
    end in a newline, is passed as it is and fails as not well formed). Names the first bad
    record by its line number (line N holds record N in an intact log). A missing anchor is
    always a problem: a data directory has one from the start, so its absence means it (and
    perhaps the log) was deleted. `max_beyond`: records an intact log may hold past its
    anchor (0 where record and anchor are written in one transaction, as in PostgreSQL).
    """
    head, count, n = GENESIS, 0, 0
    at_anchor = GENESIS  # the hash of the record the anchor counts up to
    expected_at = 0 if expect_head == GENESIS else None
    for n, raw in enumerate(lines, start=1):
        record = parse_line(raw)
        if record is None:
            return Verdict(count, head, Problem(n, "not a well-formed record (edited or torn)"))
        seq = record["seq"]
        if seq != count + 1:
            if seq > count + 1:
                what = (
                    f"expected record {count + 1}, found record {seq} "
                    f"(record {count + 1} deleted or moved?)"
                )
            else:
                what = f"expected record {count + 1}, found record {seq} (inserted or reordered?)"
            return Verdict(count, head, Problem(n, what))
        if record_hash(record) != record["hash"]:
            what = f"record {seq}: its content does not match its hash (edited)"
            return Verdict(count, head, Problem(n, what))
        if record["prev"] != head:
            what = (
                f"record {seq}: does not chain to record {count} "
                "(a record before it was edited, inserted or deleted)"
            )
            return Verdict(count, head, Problem(n, what))
        head, count = record["hash"], seq
        if anchor is not None and seq == anchor.count:
            at_anchor = head
        if head == expect_head:
            expected_at = seq
    if anchor is None:
        if count:
            return Verdict(count, head, Problem(n, "the anchor file is missing or unreadable"))
        what = (
            "no readable anchor (disclosures.anchor): the log and its anchor were deleted, "
            "or this is not a data directory rdds has set up"
        )
        return Verdict(count, head, Problem(0, what))
    if count < anchor.count:
        what = (
            f"the log ends at record {count} but the anchor counts {anchor.count} "
            "(the newest records were deleted)"
        )
        return Verdict(count, head, Problem(n + 1, what))
    if at_anchor != anchor.head:
        what = f"record {anchor.count}: does not match the anchor's head hash"
        return Verdict(count, head, Problem(anchor.count, what))
    if expect_head is not None and expected_at is None:
        what = (
            f"no record has the expected head {expect_head}: the log was rewritten, "
            "or records up to that head were deleted, since it was noted"
        )
        return Verdict(count, head, Problem(0, what))
    beyond = count - anchor.count
    if beyond > max_beyond:
        what = (
            f"the anchor counts {anchor.count} of {count} records: the anchor is rewritten "
            "after every append, so it was replaced"
        )
        return Verdict(count, head, Problem(0, what))
    # One record more than the anchor counts: the anchor is rewritten after each append, so a
    # crash in between leaves one; report it, the chain itself is intact.
    return Verdict(count, head, beyond_anchor=beyond, expected_at=expected_at)


def is_hash(text: str) -> bool:
    """A record hash's form: 64 lower-case hex digits."""
    return len(text) == 64 and set(text) <= _HEX


def parse_anchor(raw: bytes) -> Anchor | None:
    """The anchor file's content, or None when it is not well formed."""
    try:
        value = json.loads(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(value, dict) or set(value) != {"count", "head"}:
        return None
    count, head = value["count"], value["head"]
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        return None
    if not (isinstance(head, str) and len(head) == 64 and set(head) <= _HEX):
        return None
    return Anchor(count, head)


def anchor_bytes(anchor: Anchor) -> bytes:
    """The anchor file's content."""
    return canonical({"count": anchor.count, "head": anchor.head}) + b"\n"


# --- reading back ----------------------------------------------------------------------------


def since(records: Iterable[Mapping[str, Any]], start: str | None) -> list[Mapping[str, Any]]:
    """Records at or after `start` (an RFC 3339 time in the log's fixed-width form)."""
    return [r for r in records if start is None or str(r["time"]) >= start]


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One line of the transparency report."""

    month: str
    tier: str
    purpose: str
    count: int


def report(records: Iterable[Mapping[str, Any]]) -> list[ReportRow]:
    """Disclosures per month, tier and purpose (no organisations, objects or people)."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for r in records:
        counts[(str(r["time"])[:7], str(r["tier"]), str(r["purpose"] or "-"))] += 1
    return [ReportRow(m, t, p, c) for (m, t, p), c in sorted(counts.items())]


def render_report(rows: list[ReportRow]) -> str:
    """The report as a small aligned table, with a total."""
    header = ("month", "tier", "purpose", "disclosures")
    body = [(r.month, r.tier, r.purpose, str(r.count)) for r in rows]
    body.append(("total", "", "", str(sum(r.count for r in rows))))
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(4)]

    def fmt(row: tuple[str, str, str, str]) -> str:
        left = "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3]))
        return f"{left}  {row[3].rjust(widths[3])}"

    return "\n".join(fmt(r) for r in [header, *body]) + "\n"
