"""Escrow import (`rdds import`): apply RFC 8909/9022 deposits to the SQLite replica.

The only writer besides the demo generator. `replica.rde` turns bytes into model values; this
module applies them through `replica.rows`, one SQLite transaction per deposit, checks the
deposit chain, references and header counts, and bumps the replica generation. Rules and
their reasons are in docs/escrow.md.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import gzip
import hashlib
import os
import sqlite3
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, cast

from registry import names
from registry.errors import RddsError
from registry.model import Contact, Domain, Host, Registrar, Tld, TldKind
from replica import rde, rows, schema

BATCH = 2_000
CACHE_KIB = 65_536  # SQLite page cache: bounded, so peak memory does not grow with the file
MAX_LISTED = 10  # dangling references listed one by one before summarising


class ImportFailed(RddsError):
    """The deposit could not be imported; the replica is unchanged."""

    def __init__(self, file: str, line: int, reason: str) -> None:
        super().__init__(f"{file}:{line}: {reason}")
        self.file = file
        self.line = line
        self.reason = reason


@dataclasses.dataclass(frozen=True, slots=True)
class Applied:
    """One deposit applied to the replica."""

    file: str
    id: str
    type: str
    tld: str
    watermark: dt.datetime
    resend: int
    generation: int
    objects: dict[str, int]
    warnings: int


@dataclasses.dataclass(frozen=True, slots=True)
class ImportResult:
    """What `import_deposits` did, deposit by deposit, in order."""

    replica: Path
    applied: tuple[Applied, ...]


def _quiet(_: str) -> None:
    pass


def import_deposits(
    replica: Path,
    deposits: Sequence[Path],
    *,
    report: Callable[[str], None] = _quiet,
) -> ImportResult:
    """Apply `deposits` in order, one transaction each; raise `ImportFailed` on the first
    failure, which leaves the replica as the previous deposit left it."""
    done = []
    for path in deposits:
        done.append(_import_one(replica, path, report))
    return ImportResult(replica, tuple(done))


# --- reading -------------------------------------------------------------------------------


class _Hashing:
    """A read-through file wrapper that hashes the deposit's bytes as the parser consumes them."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.sha = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.sha.update(data)
        return data


@contextlib.contextmanager
def _open_deposit(path: Path) -> Iterator[tuple[IO[bytes], _Hashing]]:
    with open(path, "rb") as raw:
        hashing = _Hashing(raw)
        if path.name.endswith(".gz"):
            with gzip.GzipFile(fileobj=cast(Any, hashing), mode="rb") as gz:
                yield cast(IO[bytes], gz), hashing
        else:
            yield cast(IO[bytes], hashing), hashing


def _prolog(path: Path) -> None:
    """Reject a DOCTYPE before the parser sees it (entity bombs, external entities)."""
    opener: Any = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as fh:
        rde.check_prolog(fh.read(rde.PROLOG_SCAN))


# --- applying ------------------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


@dataclasses.dataclass(slots=True)
class _State:
    head: rde.Head
    tld: str | None = None
    header: rde.Header | None = None
    facts: rde.TldFacts | None = None
    epp: rde.EppParams | None = None
    roid_suffix: str | None = None
    warnings: int = 0
    replaced_all: bool = False
    line: int = 0
    objects: dict[str, int] = dataclasses.field(default_factory=dict)


class _Applier:
    """Applies one deposit's items inside the caller's transaction."""

    def __init__(self, conn: sqlite3.Connection, file: str, report: Callable[[str], None]):
        self.conn = conn
        self.file = file
        self.report = report
        self.state: _State | None = None
        self.domains: list[tuple[Domain, dict[str, tuple[str, ...]] | None]] = []
        self.domain_lines: list[tuple[str, str, int]] = []
        self.hosts: list[Host] = []
        self.contacts: list[Contact] = []
        self.registrars: list[Registrar] = []
        self.pending: list[tuple[str, str, int]] = []

    def warn(self, line: int, text: str) -> None:
        assert self.state is not None
        self.state.warnings += 1
        self.report(f"{self.file}:{line}: {text}")

    # -- the chain --------------------------------------------------------------------

    def _last(self, tld: str, exclude_id: str | None = None) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(
            "SELECT * FROM deposit WHERE tld = ? AND id IS NOT ? ORDER BY seq DESC LIMIT 1",
            (tld, exclude_id),
        ).fetchone()
        return row

    def begin(self, head: rde.Head) -> None:
        st = self.state = _State(head)
        self.conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS pend (kind TEXT NOT NULL, key TEXT NOT NULL, "
            "line INTEGER NOT NULL)"
        )
        self.conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS gone (kind TEXT NOT NULL, key TEXT NOT NULL)"
        )
        self.conn.execute("DELETE FROM pend")
        self.conn.execute("DELETE FROM gone")
        if head.type == "FULL":
            history = self.conn.execute("SELECT count(*) FROM deposit").fetchone()[0]
            if history == 0:
                # A replica that no deposit built (a demo file, an empty file): the first FULL
                # replaces all of it, since nothing says which rows belong to which TLD.
                for table in [
                    "domain_contact",
                    "domain_ns",
                    "domain_ds",
                    "domain",
                    "host_addr",
                    "host",
                    "contact",
                    "registrar",
                    "nndn",
                    "idn_table",
                    "claim",
                    "tld",
                ]:
                    self.conn.execute(f"DELETE FROM {table}")
                st.replaced_all = True
            return
        # DIFF / INCR: the chain names the TLD before any content (deletes first) arrives.
        tlds = [
            r[0]
            for r in self.conn.execute(
                "SELECT DISTINCT tld FROM deposit WHERE id = ? ORDER BY tld", (head.prev_id,)
            )
        ]
        if not tlds:
            raise _Refused(
                head.line,
                f"{head.type} {head.id}: prevId {head.prev_id} is not an applied deposit "
                "(import its FULL first)",
            )
        if len(tlds) > 1:
            # Deposit ids are unique per TLD only: prefer the chain this deposit continues,
            # then the ICANN file name (`coop_2026-11-22_diff_S1_R0.xml`).
            tlds = [t for t in tlds if self._continues(t, head)] or tlds
            if len(tlds) > 1:
                prefix = self.file.split("_", 1)[0].lower()
                tlds = [t for t in tlds if t == prefix]
            if len(tlds) != 1:
                raise _Refused(
                    head.line,
                    f"{head.type} {head.id}: prevId {head.prev_id} is ambiguous across TLDs",
                )
        self._set_tld(tlds[0], head.line)

    def _continues(self, tld: str, head: rde.Head) -> bool:
        if head.type == "INCR":
            sql = "SELECT id FROM deposit WHERE tld = ? AND type = 'FULL' ORDER BY seq DESC"
        else:
            sql = "SELECT id FROM deposit WHERE tld = ? ORDER BY seq DESC"
        row = self.conn.execute(sql + " LIMIT 1", (tld,)).fetchone()
        return row is not None and row[0] == head.prev_id

    def _check_chain(self, tld: str) -> None:
        st = self.state
        assert st is not None
        head = st.head
        same = self.conn.execute(
            "SELECT * FROM deposit WHERE tld = ? AND id = ? ORDER BY seq DESC LIMIT 1",
            (tld, head.id),
        ).fetchone()
        last = self._last(tld)
        if same is not None:
            if head.resend <= same["resend"]:
                raise _Refused(
                    head.line,
                    f"deposit {head.id} of TLD {tld} was already applied with resend "
                    f"{same['resend']}; a repeat needs a higher resend number",
                )
            if last is None or last["id"] != head.id:
                raise _Refused(
                    head.line,
                    f"resend of deposit {head.id} refused: later deposits of TLD {tld} "
                    "are already applied",
                )
            before = self._last(tld, exclude_id=head.id)
        else:
            before = last
        if head.type == "DIFF":
            want = before["id"] if before is not None else None
            if head.prev_id != want:
                raise _Refused(
                    head.line,
                    f"DIFF {head.id}: prevId {head.prev_id} is not the last applied deposit "
                    f"of TLD {tld} ({want})",
                )
        elif head.type == "INCR":
            full = self.conn.execute(
                "SELECT id FROM deposit WHERE tld = ? AND type = 'FULL' AND id IS NOT ? "
                "ORDER BY seq DESC LIMIT 1",
                (tld, head.id),
            ).fetchone()
            if full is None or full["id"] != head.prev_id:
                raise _Refused(
                    head.line,
                    f"INCR {head.id}: prevId {head.prev_id} is not the last applied FULL "
                    f"of TLD {tld}",
                )
        if before is not None:
            prev_mark = schema.parse_time(before["watermark"])
            if prev_mark is not None and head.watermark < prev_mark:
                raise _Refused(
                    head.line,
                    f"deposit {head.id}: watermark {schema.format_time(head.watermark)} goes "
                    f"backwards (TLD {tld} is at {before['watermark']})",
                )

    def _set_tld(self, tld: str, line: int) -> None:
        st = self.state
        assert st is not None
        if st.tld is not None:
            if tld != st.tld:
                raise _Refused(line, f"object of TLD {tld} in a deposit of TLD {st.tld}")
            return
        st.tld = tld
        self._check_chain(tld)
        if st.head.type == "FULL" and not st.replaced_all:
            # A FULL replaces this TLD's domains and NNDNs; shared objects go by claims.
            sub = "SELECT name FROM domain WHERE tld = ?"
            for table in ("domain_contact", "domain_ns", "domain_ds"):
                self.conn.execute(f"DELETE FROM {table} WHERE domain IN ({sub})", (tld,))
            self.conn.execute("DELETE FROM domain WHERE tld = ?", (tld,))
            self.conn.execute("DELETE FROM nndn WHERE tld = ?", (tld,))

    # -- items ------------------------------------------------------------------------

    def item(self, it: rde.Item) -> None:
        st = self.state
        assert st is not None
        if isinstance(it, rde.DomainItem):
            d = it.domain
            if st.tld != d.tld:
                self._set_tld(d.tld, it.line)
            if st.roid_suffix is None and "-" in d.roid:
                st.roid_suffix = d.roid.rsplit("-", 1)[1]
            self.domains.append((d, it.host_attrs))
            self.domain_lines.append(("domain", d.name, it.line))
            if len(self.domains) >= BATCH:
                self.flush()
        elif isinstance(it, rde.ContactItem):
            self.contacts.append(it.contact)
            self.pending.append(("contact", it.contact.handle, it.line))
            if len(self.contacts) >= BATCH:
                self.flush()
        elif isinstance(it, rde.HostItem):
            self.hosts.append(it.host)
            self.pending.append(("host", it.host.name, it.line))
            if len(self.hosts) >= BATCH:
                self.flush()
        elif isinstance(it, rde.RegistrarItem):
            self.registrars.append(it.registrar)
            self.pending.append(("registrar", it.registrar.id, it.line))
        elif isinstance(it, rde.Delete):
            self.delete(it)
        elif isinstance(it, rde.Header):
            if st.header is not None:
                raise _Refused(it.line, "more than one <rdeHeader:header>")
            st.header = it
            self._set_tld(it.tld, it.line)
        elif isinstance(it, rde.EppParams):
            st.epp = it
        elif isinstance(it, rde.TldFacts):
            st.facts = it
        elif isinstance(it, rde.IdnTable):
            self.conn.execute(
                "INSERT OR REPLACE INTO idn_table VALUES (?, ?, ?)",
                (it.id, it.url, it.url_policy),
            )
            self.pending.append(("idn", it.id, it.line))
        elif isinstance(it, rde.Nndn):
            tld = it.aname.rsplit(".", 1)[-1]
            if st.tld != tld:
                self._set_tld(tld, it.line)
            self.conn.execute(
                "INSERT OR REPLACE INTO nndn VALUES (?, ?, ?, ?, ?)",
                (
                    it.aname,
                    it.uname,
                    it.state,
                    tld,
                    schema.format_time(it.created) if it.created else None,
                ),
            )
            self._count("nndn")
        elif isinstance(it, rde.Notice):
            self.warn(it.line, it.text)

    def _count(self, kind: str, n: int = 1) -> None:
        assert self.state is not None
        self.state.objects[kind] = self.state.objects.get(kind, 0) + n

    def flush(self) -> None:
        conn = self.conn
        if self.registrars:
            rows.write_registrars(conn, self.registrars)
            self._count("registrar", len(self.registrars))
            self.registrars.clear()
        if self.contacts:
            rows.write_contacts(conn, self.contacts)
            self._count("contact", len(self.contacts))
            self.contacts.clear()
        if self.hosts:
            rows.write_hosts(conn, self.hosts)
            self._count("host", len(self.hosts))
            self.hosts.clear()
        if self.domains:
            rows.write_domains(conn, self.domains)
            self._count("domain", len(self.domains))
            self.domains.clear()
            conn.executemany("INSERT INTO pend VALUES (?, ?, ?)", self.domain_lines)
            self.domain_lines.clear()
        if self.pending:
            conn.executemany("INSERT INTO pend VALUES (?, ?, ?)", self.pending)
            self.pending.clear()

    def delete(self, it: rde.Delete) -> None:
        st = self.state
        assert st is not None
        if st.head.type == "FULL":
            self.warn(it.line, "deletes in a FULL deposit are ignored")
            return
        assert st.tld is not None  # DIFF/INCR: known from the chain in begin()
        conn = self.conn
        self._count("deleted")
        if it.kind == "domain":
            rows.delete_domain(conn, it.key)
        elif it.kind == "nndn":
            conn.execute("DELETE FROM nndn WHERE aname = ?", (it.key,))
        else:
            conn.execute(
                "DELETE FROM claim WHERE kind = ? AND key = ? AND tld = ?",
                (it.kind, it.key, st.tld),
            )
            still = conn.execute(
                "SELECT 1 FROM claim WHERE kind = ? AND key = ? LIMIT 1", (it.kind, it.key)
            ).fetchone()
            if still is None:
                if it.kind == "host":
                    rows.delete_host(conn, it.key)
                elif it.kind == "contact":
                    conn.execute("DELETE FROM contact WHERE id = ?", (it.key,))
                elif it.kind == "registrar":
                    conn.execute("DELETE FROM registrar WHERE id = ?", (it.key,))
                elif it.kind == "idn":
                    conn.execute("DELETE FROM idn_table WHERE id = ?", (it.key,))
                conn.execute("INSERT INTO gone VALUES (?, ?)", (it.kind, it.key))

    # -- the end ----------------------------------------------------------------------

    def finish(self, digest: str, line: int) -> Applied:
        st = self.state
        assert st is not None
        self.flush()
        if st.header is None:
            raise _Refused(line, "deposit: missing <rdeHeader:header>")
        tld = st.tld
        assert tld is not None
        conn = self.conn
        if st.head.type == "FULL":
            conn.execute("DELETE FROM claim WHERE tld = ?", (tld,))
        conn.execute(
            "INSERT OR IGNORE INTO claim SELECT kind, key, ? FROM pend WHERE kind != 'domain'",
            (tld,),
        )
        if st.head.type == "FULL" and not st.replaced_all:
            self._collect_unclaimed()
        self._check_references()
        self._write_tld(tld)
        self._compare_counts(tld)
        head = st.head
        conn.execute("DELETE FROM deposit WHERE tld = ? AND id = ?", (tld, head.id))
        conn.execute(
            "INSERT INTO deposit (id, type, prev_id, watermark, resend, digest, applied, tld) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                head.id,
                head.type,
                head.prev_id,
                schema.format_time(head.watermark),
                head.resend,
                digest,
                schema.format_time(dt.datetime.now(dt.UTC)),
                tld,
            ),
        )
        generation = schema.bump_generation(conn, head.watermark)
        return Applied(
            file=self.file,
            id=head.id,
            type=head.type,
            tld=tld,
            watermark=head.watermark,
            resend=head.resend,
            generation=generation,
            objects=dict(st.objects),
            warnings=st.warnings,
        )

    def _collect_unclaimed(self) -> None:
        conn = self.conn
        for kind, table, column in (
            ("contact", "contact", "id"),
            ("host", "host", "name"),
            ("registrar", "registrar", "id"),
            ("idn", "idn_table", "id"),
        ):
            conn.execute(
                f"INSERT INTO gone SELECT '{kind}', {column} FROM {table} WHERE NOT EXISTS "
                f"(SELECT 1 FROM claim WHERE claim.kind = '{kind}' "
                f"AND claim.key = {table}.{column})"
            )
            if kind == "host":
                conn.execute(
                    "DELETE FROM host_addr WHERE host IN (SELECT key FROM gone WHERE kind='host')"
                )
            conn.execute(
                f"DELETE FROM {table} WHERE {column} IN (SELECT key FROM gone WHERE kind = ?)",
                (kind,),
            )

    def _check_references(self) -> None:
        """RFC 9022 objects reference each other by key; docs/escrow.md has the rule."""
        conn = self.conn
        # Domains written by this deposit, and domains pointing at objects it removed.
        fatal = (
            (
                "sponsoring registrar",
                "SELECT p.key, p.line, d.registrar FROM pend p JOIN domain d ON d.name = p.key "
                "WHERE p.kind = 'domain' AND NOT EXISTS "
                "(SELECT 1 FROM registrar r WHERE r.id = d.registrar)",
            ),
            (
                "registrant",
                "SELECT p.key, p.line, d.registrant FROM pend p JOIN domain d ON d.name = p.key "
                "WHERE p.kind = 'domain' AND d.registrant IS NOT NULL AND NOT EXISTS "
                "(SELECT 1 FROM contact c WHERE c.id = d.registrant)",
            ),
            (
                "sponsoring registrar",
                "SELECT d.name, 0, d.registrar FROM gone g JOIN domain d ON d.registrar = g.key "
                "WHERE g.kind = 'registrar' AND NOT EXISTS "
                "(SELECT 1 FROM registrar r WHERE r.id = g.key)",
            ),
            (
                "registrant",
                "SELECT d.name, 0, d.registrant FROM gone g JOIN domain d "
                "ON d.registrant = g.key WHERE g.kind = 'contact' AND NOT EXISTS "
                "(SELECT 1 FROM contact c WHERE c.id = g.key)",
            ),
        )
        for what, sql in fatal:
            bad = conn.execute(sql + " LIMIT 1").fetchone()
            if bad is not None:
                raise _Refused(
                    bad[1],
                    f"domain {bad[0]}: {what} {bad[2]} does not exist (dangling reference)",
                )
        soft = (
            (
                "contact",
                "SELECT p.key, p.line, dc.role || ' contact', dc.contact FROM pend p "
                "JOIN domain_contact dc ON dc.domain = p.key WHERE p.kind = 'domain' AND "
                "NOT EXISTS (SELECT 1 FROM contact c WHERE c.id = dc.contact)",
            ),
            (
                "host",
                "SELECT p.key, p.line, 'nameserver', n.host FROM pend p "
                "JOIN domain_ns n ON n.domain = p.key WHERE p.kind = 'domain' AND "
                "n.addrs IS NULL AND NOT EXISTS (SELECT 1 FROM host h WHERE h.name = n.host)",
            ),
            (
                "contact",
                "SELECT dc.domain, 0, dc.role || ' contact', dc.contact FROM gone g "
                "JOIN domain_contact dc ON dc.contact = g.key WHERE g.kind = 'contact' AND "
                "NOT EXISTS (SELECT 1 FROM contact c WHERE c.id = g.key)",
            ),
            (
                "host",
                "SELECT n.domain, 0, 'nameserver', n.host FROM gone g "
                "JOIN domain_ns n ON n.host = g.key WHERE g.kind = 'host' AND n.addrs IS NULL "
                "AND NOT EXISTS (SELECT 1 FROM host h WHERE h.name = g.key)",
            ),
        )
        for _, sql in soft:
            found = conn.execute(sql + f" LIMIT {MAX_LISTED + 1}").fetchall()
            for domain, line, role, key in found[:MAX_LISTED]:
                self.warn(line, f"domain {domain}: {role} {key} does not exist (kept)")
            if len(found) > MAX_LISTED:
                total = conn.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]
                self.warn(0, f"... {total - MAX_LISTED} more dangling references like these")

    def _write_tld(self, tld: str) -> None:
        st = self.state
        assert st is not None
        old = self.conn.execute("SELECT * FROM tld WHERE name = ?", (tld,)).fetchone()
        keep = old is not None and st.head.type != "FULL"
        facts = st.facts
        kind = facts.kind if facts and facts.kind else None
        policy = facts.policy if facts else None
        suffix = facts.roid_suffix if facts else None
        if keep:
            kind = kind or TldKind(old["kind"])
            policy = policy or old["policy"]
            suffix = suffix or old["roid_suffix"]
        if kind is None:
            # Default: two-letter and IDN (xn--) TLDs are ccTLDs; the extension overrides.
            kind = TldKind.CCTLD if len(tld) == 2 or tld.startswith("xn--") else TldKind.GTLD
        disclose = (
            st.epp.disclose_default
            if st.epp is not None
            else (bool(old["disclose_default"]) if keep else False)
        )
        row = Tld(
            name=tld,
            kind=kind,
            policy=policy or tld,
            roid_suffix=suffix or st.roid_suffix or tld.upper(),
            disclose_default=disclose,
        )
        self.conn.execute(rows.UPSERT_TLD, rows.tld_row(row))

    def _compare_counts(self, tld: str) -> None:
        st = self.state
        assert st is not None and st.header is not None
        conn = self.conn

        def claimed(kind: str) -> int:
            return int(
                conn.execute(
                    "SELECT count(*) FROM claim WHERE tld = ? AND kind = ?", (tld, kind)
                ).fetchone()[0]
            )

        actual = {
            rde.DOMAIN: lambda: int(
                conn.execute("SELECT count(*) FROM domain WHERE tld = ?", (tld,)).fetchone()[0]
            ),
            rde.HOST: lambda: claimed("host"),
            rde.CONTACT: lambda: claimed("contact"),
            rde.REGISTRAR: lambda: claimed("registrar"),
            rde.IDN: lambda: claimed("idn"),
            rde.NNDN: lambda: int(
                conn.execute("SELECT count(*) FROM nndn WHERE tld = ?", (tld,)).fetchone()[0]
            ),
        }
        for uri, expected in st.header.counts:
            count = actual.get(uri)
            if count is None:
                continue
            have = count()
            if have != expected:
                self.warn(
                    st.header.line,
                    f"header count for {uri.rsplit(':', 1)[-1]} is {expected}, "
                    f"the replica has {have} for TLD {tld}",
                )


def _connect(path: Path, fresh: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    if fresh:
        # A private file that is renamed into place only when complete: no journal needed.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
    else:
        conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _import_one(replica: Path, path: Path, report: Callable[[str], None]) -> Applied:
    file = path.name
    fresh = not replica.exists()
    target = replica
    if fresh:
        replica.parent.mkdir(parents=True, exist_ok=True)
        target = replica.with_name(f".{replica.name}.{os.getpid()}.tmp")
        target.unlink(missing_ok=True)
    conn: sqlite3.Connection | None = None
    applier: _Applier | None = None
    line = 0
    try:
        try:
            _prolog(path)
            conn = _connect(target, fresh)
            if fresh:
                schema.create(conn)
            was_wal = conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            applier = _Applier(conn, file, report)
            with _open_deposit(path) as (stream, hashing):
                items = rde.parse(stream)
                conn.execute("BEGIN IMMEDIATE")
                schema.migrate(conn)
                for it in items:
                    line = getattr(it, "line", line)
                    if isinstance(it, rde.Head):
                        applier.begin(it)
                    else:
                        applier.item(it)
                if applier.state is None:
                    raise _Refused(line, "deposit: missing <rde:rdeMenu>")
                # Drain what the parser did not read (trailing whitespace) so the digest
                # covers the whole file.
                while hashing.read(1 << 20):
                    pass
                applied = applier.finish(hashing.sha.hexdigest(), line)
            conn.execute("COMMIT")
        except rde.DepositError as exc:
            raise ImportFailed(file, exc.line, exc.reason) from None
        except _Refused as exc:
            raise ImportFailed(file, exc.line, exc.reason) from None
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise ImportFailed(file, 0, "the replica is locked by another writer") from None
            raise ImportFailed(file, line, f"replica error: {_sqlite_reason(exc)}") from None
        except sqlite3.Error as exc:
            raise ImportFailed(file, line, f"replica error: {_sqlite_reason(exc)}") from None
        except (gzip.BadGzipFile, EOFError, zlib.error):
            raise ImportFailed(file, line, "corrupt or truncated gzip stream") from None
        except OSError as exc:
            raise ImportFailed(file, line, f"cannot read: {exc.strerror or 'I/O error'}") from None
    except ImportFailed:
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            conn.close()
        if fresh:
            target.unlink(missing_ok=True)
        raise
    assert conn is not None
    if fresh or not was_wal:
        conn.execute("PRAGMA journal_mode = WAL")  # readers and the importer coexist
    if fresh:
        conn.execute("ANALYZE")
    conn.close()
    if fresh:
        with open(target, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(target, replica)
    report(
        f"{file}: applied {applied.type} {applied.id} (resend {applied.resend}) for TLD "
        f"{names.to_unicode(applied.tld)}: "
        + ", ".join(f"{n} {k}" for k, n in sorted(applied.objects.items()))
        + f"; generation {applied.generation}"
        + (f"; {applied.warnings} warning(s)" if applied.warnings else "")
    )
    return applied


def _sqlite_reason(exc: sqlite3.Error) -> str:
    # SQLite names tables and columns, never values (constraint messages included).
    return str(exc).splitlines()[0][:120]


# --- command line --------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`rdds import --replica PATH DEPOSIT [DEPOSIT ...]`."""
    parser.add_argument(
        "--replica", type=Path, required=True, help="the SQLite replica to build or update"
    )
    parser.add_argument(
        "deposits",
        metavar="DEPOSIT",
        type=Path,
        nargs="+",
        help="RFC 8909 deposits (.xml or .xml.gz): a FULL, then DIFF/INCR in order",
    )
    parser.add_argument("--quiet", action="store_true", help="print failures only")


def run(args: argparse.Namespace) -> int:
    """Run `rdds import`; 0 on success, 1 with a one-line message on failure."""
    quiet = bool(getattr(args, "quiet", False))

    def say(text: str) -> None:
        if not quiet:
            print(text, file=sys.stderr)

    try:
        import_deposits(args.replica, args.deposits, report=say)
    except ImportFailed as exc:
        print(f"rdds import: {exc.message}", file=sys.stderr)
        return 1
    except Exception as exc:  # never a traceback; the type only (messages may carry data)
        print(f"rdds import: internal error ({type(exc).__name__})", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point until `rdds` wires `import` in."""
    parser = argparse.ArgumentParser(prog="rdds import", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
