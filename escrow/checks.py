"""The escrow import's rules, as queries over the replica being written (docs/escrow.md).

Used by `escrow.importer` inside a deposit's transaction: which TLD a DIFF/INCR continues
and whether the chain allows it, objects the deposit carries twice, references between
objects after applying, and the header's counts against the replica's totals. Refusals raise
`Refused(line, reason)`; reports go to a `warn(line, text)` callback. Reasons name objects
by key, never by value.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from escrow import rde
from replica import schema

MAX_LISTED = 10  # dangling references listed one by one before summarising

Warn = Callable[[int, str], None]


class Refused(Exception):
    """The deposit breaks an import rule: where (line) and why (reason, with no values)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


# --- the chain -----------------------------------------------------------------------------


def continued_tld(conn: sqlite3.Connection, head: rde.Head, file: str) -> str:
    """The TLD whose chain a DIFF or INCR continues: the TLD of the deposit its prevId names."""
    tlds: list[str] = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT tld FROM deposit WHERE id = ? ORDER BY tld", (head.prev_id,)
        )
    ]
    if not tlds:
        raise Refused(
            head.line,
            f"{head.type} {head.id}: prevId {head.prev_id} is not an applied deposit "
            "(import its FULL first)",
        )
    if len(tlds) > 1:
        # Deposit ids are unique per TLD only: prefer the chain this deposit continues,
        # then the ICANN file name (`coop_2026-11-22_diff_S1_R0.xml`).
        tlds = [t for t in tlds if _continues(conn, t, head)] or tlds
        if len(tlds) > 1:
            prefix = file.split("_", 1)[0].lower()
            tlds = [t for t in tlds if t == prefix]
        if len(tlds) != 1:
            raise Refused(
                head.line,
                f"{head.type} {head.id}: prevId {head.prev_id} is ambiguous across TLDs",
            )
    return tlds[0]


def _continues(conn: sqlite3.Connection, tld: str, head: rde.Head) -> bool:
    if head.type == "INCR":
        sql = "SELECT id FROM deposit WHERE tld = ? AND type = 'FULL' ORDER BY seq DESC"
    else:
        sql = "SELECT id FROM deposit WHERE tld = ? ORDER BY seq DESC"
    row = conn.execute(sql + " LIMIT 1", (tld,)).fetchone()
    return row is not None and row[0] == head.prev_id


def _last(conn: sqlite3.Connection, tld: str, exclude_id: str | None = None) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM deposit WHERE tld = ? AND id IS NOT ? ORDER BY seq DESC LIMIT 1",
        (tld, exclude_id),
    ).fetchone()
    return row


def check_chain(conn: sqlite3.Connection, head: rde.Head, tld: str) -> None:
    """Refuse a repeat without a higher resend, a broken DIFF/INCR chain, a watermark that
    goes backwards."""
    same = conn.execute(
        "SELECT * FROM deposit WHERE tld = ? AND id = ? ORDER BY seq DESC LIMIT 1",
        (tld, head.id),
    ).fetchone()
    before = _before_resend(conn, head, tld, same) if same is not None else _last(conn, tld)
    if head.type == "DIFF":
        want = before["id"] if before is not None else None
        if head.prev_id != want:
            raise Refused(
                head.line,
                f"DIFF {head.id}: prevId {head.prev_id} is not the last applied deposit "
                f"of TLD {tld} ({want})",
            )
    elif head.type == "INCR":
        full = conn.execute(
            "SELECT id FROM deposit WHERE tld = ? AND type = 'FULL' AND id IS NOT ? "
            "ORDER BY seq DESC LIMIT 1",
            (tld, head.id),
        ).fetchone()
        if full is None or full["id"] != head.prev_id:
            raise Refused(
                head.line,
                f"INCR {head.id}: prevId {head.prev_id} is not the last applied FULL of TLD {tld}",
            )
    if before is not None:
        prev_mark = schema.parse_time(before["watermark"])
        if prev_mark is not None and head.watermark < prev_mark:
            raise Refused(
                head.line,
                f"deposit {head.id}: watermark {schema.format_time(head.watermark)} goes "
                f"backwards (TLD {tld} is at {before['watermark']})",
            )


def _before_resend(
    conn: sqlite3.Connection, head: rde.Head, tld: str, same: sqlite3.Row
) -> sqlite3.Row | None:
    """A deposit id seen before: allowed as a resend of the TLD's latest deposit only; the
    deposit it then follows is the one before the id's first application."""
    if head.resend <= same["resend"]:
        raise Refused(
            head.line,
            f"deposit {head.id} of TLD {tld} was already applied with resend "
            f"{same['resend']}; a repeat needs a higher resend number",
        )
    last = _last(conn, tld)
    if last is None or last["id"] != head.id:
        raise Refused(
            head.line,
            f"resend of deposit {head.id} refused: later deposits of TLD {tld} are already applied",
        )
    return _last(conn, tld, exclude_id=head.id)


# --- duplicates ----------------------------------------------------------------------------

_KIND_NAMES = {"idn": "IDN table", "nndn": "NNDN"}  # else the kind itself


def check_duplicates(conn: sqlite3.Connection) -> None:
    """Refuse an object that the deposit carries twice (`pend` holds every object it wrote).

    Objects are whole snapshots, so two copies contradict each other (a second contact copy
    with atRisk="false" would clear an at-risk marker); the last one must not silently win.
    """
    dup = conn.execute(
        "SELECT kind, key FROM pend GROUP BY kind, key HAVING count(*) > 1 LIMIT 1"
    ).fetchone()
    if dup is None:
        return
    kind, key = dup[0], dup[1]
    first, second = (
        r[0]
        for r in conn.execute(
            "SELECT line FROM pend WHERE kind = ? AND key = ? ORDER BY rowid LIMIT 2", (kind, key)
        )
    )
    raise Refused(
        second,
        f"{_KIND_NAMES.get(kind, kind)} {key} appears twice in the deposit "
        f"(lines {first} and {second})",
    )


# --- references ----------------------------------------------------------------------------

# Domains written by this deposit (`pend`), and domains pointing at objects it removed
# (`gone`). Each query yields (domain, line, referenced key). CROSS JOIN fixes SQLite's join
# order: the deposit's own keys outside, the replica's indexes inside, so that a check costs
# what the deposit holds. Left to itself the planner scanned every domain for the
# registrar check (few registrars: `domain_registrar` looked unselective), even with `gone`
# empty.
_FATAL = (
    (
        "sponsoring registrar",
        "SELECT p.key, p.line, d.registrar FROM pend p CROSS JOIN domain d ON d.name = p.key "
        "WHERE p.kind = 'domain' AND NOT EXISTS "
        "(SELECT 1 FROM registrar r WHERE r.id = d.registrar)",
    ),
    (
        "registrant",
        "SELECT p.key, p.line, d.registrant FROM pend p CROSS JOIN domain d ON d.name = p.key "
        "WHERE p.kind = 'domain' AND d.registrant IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM contact c WHERE c.id = d.registrant)",
    ),
    (
        "sponsoring registrar",
        "SELECT d.name, 0, d.registrar FROM gone g CROSS JOIN domain d ON d.registrar = g.key "
        "WHERE g.kind = 'registrar' AND NOT EXISTS "
        "(SELECT 1 FROM registrar r WHERE r.id = g.key)",
    ),
    (
        "registrant",
        "SELECT d.name, 0, d.registrant FROM gone g CROSS JOIN domain d "
        "ON d.registrant = g.key WHERE g.kind = 'contact' AND NOT EXISTS "
        "(SELECT 1 FROM contact c WHERE c.id = g.key)",
    ),
)
# The same for references a domain can be served without. Each query yields (domain, line,
# what is referenced, its key).
_SOFT = (
    "SELECT p.key, p.line, dc.role || ' contact', dc.contact FROM pend p "
    "CROSS JOIN domain_contact dc ON dc.domain = p.key WHERE p.kind = 'domain' AND "
    "NOT EXISTS (SELECT 1 FROM contact c WHERE c.id = dc.contact)",
    "SELECT p.key, p.line, 'nameserver', n.host FROM pend p "
    "CROSS JOIN domain_ns n ON n.domain = p.key WHERE p.kind = 'domain' AND "
    "n.addrs IS NULL AND NOT EXISTS (SELECT 1 FROM host h WHERE h.name = n.host)",
    "SELECT dc.domain, 0, dc.role || ' contact', dc.contact FROM gone g "
    "CROSS JOIN domain_contact dc ON dc.contact = g.key WHERE g.kind = 'contact' AND "
    "NOT EXISTS (SELECT 1 FROM contact c WHERE c.id = g.key)",
    "SELECT n.domain, 0, 'nameserver', n.host FROM gone g "
    "CROSS JOIN domain_ns n ON n.host = g.key WHERE g.kind = 'host' AND n.addrs IS NULL "
    "AND NOT EXISTS (SELECT 1 FROM host h WHERE h.name = g.key)",
)


def check_references(conn: sqlite3.Connection, warn: Warn) -> None:
    """RFC 9022 objects reference each other by key: a domain without its sponsoring
    registrar or registrant refuses the deposit; a missing contact or host is reported."""
    for what, sql in _FATAL:
        bad = conn.execute(sql + " LIMIT 1").fetchone()
        if bad is not None:
            raise Refused(
                bad[1], f"domain {bad[0]}: {what} {bad[2]} does not exist (dangling reference)"
            )
    for sql in _SOFT:
        found = conn.execute(sql + f" LIMIT {MAX_LISTED + 1}").fetchall()
        for domain, line, role, key in found[:MAX_LISTED]:
            warn(line, f"domain {domain}: {role} {key} does not exist (kept)")
        if len(found) > MAX_LISTED:
            total = conn.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]
            warn(0, f"... {total - MAX_LISTED} more dangling references like these")


# --- counts --------------------------------------------------------------------------------

# RFC 9022 §5.7: header counts are the registry's totals at the watermark. Domains and NNDNs
# belong to one TLD; the shared objects count as the TLD's when its deposits claim them.
_TOTALS = {
    rde.DOMAIN: ("SELECT count(*) FROM domain WHERE tld = ?", ()),
    rde.NNDN: ("SELECT count(*) FROM nndn WHERE tld = ?", ()),
    rde.HOST: ("SELECT count(*) FROM claim WHERE tld = ? AND kind = ?", ("host",)),
    rde.CONTACT: ("SELECT count(*) FROM claim WHERE tld = ? AND kind = ?", ("contact",)),
    rde.REGISTRAR: ("SELECT count(*) FROM claim WHERE tld = ? AND kind = ?", ("registrar",)),
    rde.IDN: ("SELECT count(*) FROM claim WHERE tld = ? AND kind = ?", ("idn",)),
}


def compare_counts(conn: sqlite3.Connection, header: rde.Header, tld: str, warn: Warn) -> None:
    """Report each header count that differs from the replica's total for the TLD."""
    for uri, expected in header.counts:
        total = _TOTALS.get(uri)
        if total is None:
            continue
        sql, args = total
        have = int(conn.execute(sql, (tld, *args)).fetchone()[0])
        if have != expected:
            warn(
                header.line,
                f"header count for {uri.rsplit(':', 1)[-1]} is {expected}, "
                f"the replica has {have} for TLD {tld}",
            )
