"""Escrow import (`rdds import`): apply RFC 8909/9022 deposits to the SQLite replica.

The only writer besides the demo generator. `escrow.rde` turns bytes into model values; this
module applies them through `replica.rows`, one SQLite transaction per deposit, checks the
deposit chain, references and header counts, and bumps the replica generation. Rules and
their reasons are in docs/escrow.md.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import gzip
import hashlib
import multiprocessing
import os
import queue
import sqlite3
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, cast

from escrow import checks, rde
from registry import names
from registry.errors import RddsError
from registry.model import Domain, Tld, TldKind
from replica import rows, schema

BATCH = 2_000
CACHE_KIB = 65_536  # SQLite page cache: bounded, so peak memory does not grow with the file


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
    failure, which leaves the replica as the previous deposit left it (absent if there was
    no replica and no deposit applied)."""
    done: list[Applied] = []
    if replica.exists():
        conn = _connect(replica, fresh=False)
        try:
            was_wal = conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            for path in deposits:
                done.append(_apply(conn, path, report))
                if not was_wal:
                    conn.execute("PRAGMA journal_mode = WAL")  # after a success only
                    was_wal = True
        finally:
            conn.close()
        return ImportResult(replica, tuple(done))
    # A new replica: build it in a private file beside the target, rename it into place.
    replica.parent.mkdir(parents=True, exist_ok=True)
    tmp = replica.with_name(f".{replica.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    conn = _connect(tmp, fresh=True)
    try:
        schema.create(conn)
        for path in deposits:
            done.append(_apply(conn, path, report))
    except BaseException:
        if done:  # the deposits applied before the failure stay applied
            _install(conn, tmp, replica)
        else:
            conn.close()
            tmp.unlink(missing_ok=True)
            Path(f"{tmp}-journal").unlink(missing_ok=True)
        raise
    _install(conn, tmp, replica)
    return ImportResult(replica, tuple(done))


def _install(conn: sqlite3.Connection, tmp: Path, replica: Path) -> None:
    """Finish a new replica: WAL for live readers, statistics, fsync, atomic rename."""
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("ANALYZE")
    conn.close()
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, replica)


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


#: Deposits at least this large are parsed in a worker process while this one writes SQLite.
PIPELINE_MIN_BYTES = 16 * 2**20
_QUEUE_DEPTH = 8  # chunks in flight between the worker and the writer: bounded memory
_CHUNK = 64


@contextlib.contextmanager
def _messages(path: Path) -> Iterator[tuple[Iterator[_Msg], Callable[[], str]]]:
    """The deposit's messages and, once they are consumed, the digest of its bytes."""
    if path.stat().st_size >= PIPELINE_MIN_BYTES:
        box: list[str] = []
        with _worker(path, box) as msgs:
            yield msgs, lambda: box[0]
        return
    with _open_deposit(path) as (stream, hashing):

        def digest() -> str:
            # Drain what the parser did not read (trailing whitespace): hash the whole file.
            while hashing.read(1 << 20):
                pass
            return hashing.sha.hexdigest()

        yield _batches(rde.parse(stream)), digest


def _produce(path: str, out: Any) -> None:
    """Worker: parse and encode a deposit, sending chunks of messages to `out`."""
    try:
        with _open_deposit(Path(path)) as (stream, hashing):
            chunk: list[_Msg] = []
            for msg in _batches(rde.parse(stream)):
                chunk.append(msg)
                if isinstance(msg, _Batch) or len(chunk) >= _CHUNK:
                    out.put(("msgs", chunk))
                    chunk = []
            if chunk:
                out.put(("msgs", chunk))
            while hashing.read(1 << 20):
                pass
            out.put(("end", hashing.sha.hexdigest()))
    except rde.DepositError as exc:
        out.put(("error", exc.line, exc.reason))
    except (gzip.BadGzipFile, EOFError, zlib.error):
        out.put(("error", 0, "corrupt or truncated gzip stream"))
    except OSError as exc:
        out.put(("error", 0, f"cannot read: {exc.strerror or 'I/O error'}"))
    except Exception as exc:  # the type only: messages may carry data
        out.put(("error", 0, f"internal error in the parser ({type(exc).__name__})"))


@contextlib.contextmanager
def _worker(path: Path, box: list[str]) -> Iterator[Iterator[_Msg]]:
    # spawn, not fork: the importing process may hold threads and an open SQLite handle.
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue(maxsize=_QUEUE_DEPTH)
    proc = ctx.Process(target=_produce, args=(str(path), out), daemon=True)
    proc.start()

    def receive() -> Iterator[_Msg]:
        while True:
            try:
                kind, *rest = out.get(timeout=2)
            except queue.Empty:
                if not proc.is_alive():
                    raise checks.Refused(0, "the parser worker stopped unexpectedly") from None
                continue
            if kind == "msgs":
                yield from rest[0]
            elif kind == "end":
                box.append(rest[0])
                return
            else:
                raise rde.DepositError(rest[0], rest[1])

    try:
        yield receive()
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join()
        out.close()
        out.cancel_join_thread()
        proc.close()


def _prolog(path: Path) -> None:
    """Reject a DOCTYPE before the parser sees it (entity bombs, external entities)."""
    opener: Any = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as fh:
        rde.check_prolog(fh.read(rde.PROLOG_SCAN))


# --- applying ------------------------------------------------------------------------------


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


@dataclasses.dataclass(frozen=True, slots=True)
class _Batch:
    """Encoded rows of one kind of object, ready for executemany (picklable)."""

    kind: str  # domain | contact | host | registrar
    rows: Any
    pend: list[tuple[str, str, int]]  # (kind, key, line) of every object in the batch
    tlds: list[tuple[str, int]]  # domains' TLDs in order of appearance, with a line
    roid_suffix: str | None
    line: int


_Msg = rde.Item | _Batch


def _encode_domains(
    objs: list[tuple[Domain, dict[str, tuple[str, ...]] | None]],
    pend: list[tuple[str, str, int]],
) -> tuple[Any, list[tuple[str, int]], str | None]:
    tlds: list[tuple[str, int]] = []
    suffix = None
    for (d, _), (_, _, line) in zip(objs, pend, strict=True):
        if not tlds or tlds[-1][0] != d.tld:
            tlds.append((d.tld, line))
        if suffix is None and "-" in d.roid:
            suffix = d.roid.rsplit("-", 1)[1]
    return rows.encode_domains(objs), tlds, suffix


class _Buffer:
    """Objects of one kind waiting to become a `_Batch`."""

    def __init__(
        self,
        kind: str,
        unpack: Callable[[Any], tuple[Any, str]],
        encode: Callable[[list[Any], list[tuple[str, str, int]]], tuple[Any, Any, Any]],
    ) -> None:
        self.kind = kind
        self.unpack = unpack  # item -> (what to encode, key)
        self.encode = encode  # -> (rows, domain TLDs, ROID suffix)
        self.objects: list[Any] = []
        self.pend: list[tuple[str, str, int]] = []

    def add(self, item: Any) -> _Batch | None:
        obj, key = self.unpack(item)
        self.objects.append(obj)
        self.pend.append((self.kind, key, item.line))
        return self.flush() if len(self.objects) >= BATCH else None

    def flush(self) -> _Batch:
        encoded, tlds, suffix = self.encode(self.objects, self.pend)
        batch = _Batch(self.kind, encoded, self.pend, tlds, suffix, self.pend[-1][2])
        self.objects, self.pend = [], []
        return batch


def _buffers() -> dict[type, _Buffer]:
    """One buffer per object type, in the order they are flushed together."""
    return {
        rde.RegistrarItem: _Buffer(
            "registrar",
            lambda it: (it.registrar, it.registrar.id),
            lambda objs, _: ([rows.registrar_row(r) for r in objs], [], None),
        ),
        rde.ContactItem: _Buffer(
            "contact",
            lambda it: (it.contact, it.contact.handle),
            lambda objs, _: ([rows.contact_row(c) for c in objs], [], None),
        ),
        rde.HostItem: _Buffer(
            "host",
            lambda it: (it.host, it.host.name),
            lambda objs, _: (rows.encode_hosts(objs), [], None),
        ),
        rde.DomainItem: _Buffer(
            "domain", lambda it: ((it.domain, it.host_attrs), it.domain.name), _encode_domains
        ),
    }


def _batches(items: Iterator[rde.Item]) -> Iterator[_Msg]:
    """Group objects into encoded batches; pass every other item through, in order.

    Pure (no SQLite): runs in the importing process, or in a worker for large files.
    """
    buffers = _buffers()

    def flush_all() -> Iterator[_Batch]:
        for buf in buffers.values():
            if buf.objects:
                yield buf.flush()

    for it in items:
        buf = buffers.get(type(it))
        if buf is not None:
            batch = buf.add(it)
            if batch is not None:
                yield batch
        else:
            if not isinstance(it, rde.Notice):
                yield from flush_all()
            yield it
    yield from flush_all()


#: Every table a FULL into a replica that no deposit built empties first.
_CONTENT_TABLES = (
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
)


class _Applier:
    """Applies one deposit's messages inside the caller's transaction.

    Bookkeeping lives in temporary tables, not Python sets, so memory stays flat: `pend`
    (kind, key, line) of every object written, `gone` (kind, key) of every object deleted,
    `cand` (kind, key) of shared objects a FULL may leave unclaimed.
    """

    def __init__(self, conn: sqlite3.Connection, file: str, report: Callable[[str], None]):
        self.conn = conn
        self.file = file
        self.report = report
        self.state: _State | None = None

    def warn(self, line: int, text: str) -> None:
        assert self.state is not None
        self.state.warnings += 1
        self.report(f"{self.file}:{line}: {text}")

    def _count(self, kind: str, n: int = 1) -> None:
        assert self.state is not None
        self.state.objects[kind] = self.state.objects.get(kind, 0) + n

    # -- the start ----------------------------------------------------------------------

    def begin(self, head: rde.Head) -> None:
        st = self.state = _State(head)
        for table, columns in (
            ("pend", "kind TEXT NOT NULL, key TEXT NOT NULL, line INTEGER NOT NULL"),
            ("gone", "kind TEXT NOT NULL, key TEXT NOT NULL"),
            ("cand", "kind TEXT NOT NULL, key TEXT NOT NULL"),
        ):
            self.conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} ({columns})")
        self.conn.execute("DELETE FROM pend")
        self.conn.execute("DELETE FROM gone")
        if head.type != "FULL":
            # DIFF / INCR: the chain names the TLD before any content (deletes first) arrives.
            self._set_tld(checks.continued_tld(self.conn, head, self.file), head.line)
        elif self.conn.execute("SELECT count(*) FROM deposit").fetchone()[0] == 0:
            # A replica that no deposit built (a demo file, an empty file): the first FULL
            # replaces all of it, since nothing says which rows belong to which TLD.
            for table in _CONTENT_TABLES:
                self.conn.execute(f"DELETE FROM {table}")
            st.replaced_all = True

    def _set_tld(self, tld: str, line: int) -> None:
        st = self.state
        assert st is not None
        if st.tld is not None:
            if tld != st.tld:
                raise checks.Refused(line, f"object of TLD {tld} in a deposit of TLD {st.tld}")
            return
        st.tld = tld
        checks.check_chain(self.conn, st.head, tld)
        if st.head.type == "FULL" and not st.replaced_all:
            # A FULL replaces this TLD's domains and NNDNs; shared objects go by claims.
            sub = "SELECT name FROM domain WHERE tld = ?"
            for table in ("domain_contact", "domain_ns", "domain_ds"):
                self.conn.execute(f"DELETE FROM {table} WHERE domain IN ({sub})", (tld,))
            self.conn.execute("DELETE FROM domain WHERE tld = ?", (tld,))
            self.conn.execute("DELETE FROM nndn WHERE tld = ?", (tld,))

    # -- messages -----------------------------------------------------------------------

    def apply(self, msg: _Msg) -> None:
        if isinstance(msg, rde.Head):
            self.begin(msg)
            return
        assert self.state is not None
        handler = _HANDLERS.get(type(msg))
        if handler is not None:
            handler(self, msg)

    def _batch(self, msg: _Batch) -> None:
        st = self.state
        assert st is not None
        st.line = msg.line
        for tld, line in msg.tlds:
            if st.tld != tld:
                self._set_tld(tld, line)
        if st.roid_suffix is None and msg.roid_suffix:
            st.roid_suffix = msg.roid_suffix
        conn = self.conn
        if msg.kind == "domain":
            # A FULL removed its TLD's domains when the TLD became known: nothing to
            # replace, so skip four index probes per domain.
            rows.write_domain_rows(conn, msg.rows, replace=st.head.type != "FULL")
        elif msg.kind == "contact":
            conn.executemany(rows.UPSERT_CONTACT, msg.rows)
        elif msg.kind == "host":
            rows.write_host_rows(conn, msg.rows)
        elif msg.kind == "registrar":
            conn.executemany(rows.UPSERT_REGISTRAR, msg.rows)
        conn.executemany("INSERT INTO pend VALUES (?, ?, ?)", msg.pend)
        self._count(msg.kind, len(msg.pend))

    def _header(self, msg: rde.Header) -> None:
        st = self.state
        assert st is not None
        if st.header is not None:
            raise checks.Refused(msg.line, "more than one <rdeHeader:header>")
        st.header = msg
        self._set_tld(msg.tld, msg.line)

    def _epp_params(self, msg: rde.EppParams) -> None:
        assert self.state is not None
        if self.state.epp is not None:  # two data collection policies contradict each other
            raise checks.Refused(msg.line, "more than one <rdeEppParams:eppParams>")
        self.state.epp = msg

    def _tld_facts(self, msg: rde.TldFacts) -> None:
        assert self.state is not None
        if self.state.facts is not None:
            raise checks.Refused(msg.line, "more than one <rddsExt:tld>")
        self.state.facts = msg

    def _idn(self, msg: rde.IdnTable) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO idn_table VALUES (?, ?, ?)", (msg.id, msg.url, msg.url_policy)
        )
        self.conn.execute("INSERT INTO pend VALUES ('idn', ?, ?)", (msg.id, msg.line))
        self._count("idn")

    def _nndn(self, msg: rde.Nndn) -> None:
        assert self.state is not None
        tld = msg.aname.rsplit(".", 1)[-1]
        if self.state.tld != tld:
            self._set_tld(tld, msg.line)
        created = schema.format_time(msg.created) if msg.created else None
        self.conn.execute(
            "INSERT OR REPLACE INTO nndn VALUES (?, ?, ?, ?, ?)",
            (msg.aname, msg.uname, msg.state, tld, created),
        )
        self.conn.execute("INSERT INTO pend VALUES ('nndn', ?, ?)", (msg.aname, msg.line))
        self._count("nndn")

    def _notice(self, msg: rde.Notice) -> None:
        self.warn(msg.line, msg.text)

    def _delete(self, it: rde.Delete) -> None:
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
            return
        if it.kind == "nndn":
            conn.execute("DELETE FROM nndn WHERE aname = ?", (it.key,))
            return
        # A shared object: drop this TLD's claim, and the row once no TLD claims it.
        conn.execute(
            "DELETE FROM claim WHERE kind = ? AND key = ? AND tld = ?", (it.kind, it.key, st.tld)
        )
        still = conn.execute(
            "SELECT 1 FROM claim WHERE kind = ? AND key = ? LIMIT 1", (it.kind, it.key)
        ).fetchone()
        if still is None:
            _delete_shared(conn, it.kind, it.key)
            conn.execute("INSERT INTO gone VALUES (?, ?)", (it.kind, it.key))

    # -- the end ------------------------------------------------------------------------

    def finish(self, digest: str, line: int) -> Applied:
        st = self.state
        assert st is not None
        if st.header is None:
            raise checks.Refused(line, "deposit: missing <rdeHeader:header>")
        tld = st.tld
        assert tld is not None
        checks.check_duplicates(self.conn)
        self._settle_claims(tld)
        checks.check_references(self.conn, self.warn)
        self._write_tld(tld)
        checks.compare_counts(self.conn, st.header, tld, self.warn)
        self._record(digest, tld)
        generation = schema.bump_generation(self.conn, st.head.watermark)
        return Applied(
            file=self.file,
            id=st.head.id,
            type=st.head.type,
            tld=tld,
            watermark=st.head.watermark,
            resend=st.head.resend,
            generation=generation,
            objects=dict(st.objects),
            warnings=st.warnings,
        )

    def _settle_claims(self, tld: str) -> None:
        """The TLD claims the shared objects its deposit carried (a FULL: those only)."""
        st = self.state
        assert st is not None
        conn = self.conn
        full = st.head.type == "FULL"
        if full:
            # Objects this TLD claimed until now may end up claimed by no TLD: candidates.
            conn.execute("DELETE FROM cand")
            conn.execute(
                "INSERT INTO cand SELECT kind, key FROM claim WHERE tld = ? AND kind != 'domain'",
                (tld,),
            )
            conn.execute("DELETE FROM claim WHERE tld = ?", (tld,))
        conn.execute(
            "INSERT OR IGNORE INTO claim SELECT kind, key, ? FROM pend "
            "WHERE kind NOT IN ('domain', 'nndn')",
            (tld,),
        )
        if full and not st.replaced_all:
            self._collect_unclaimed()

    def _collect_unclaimed(self) -> None:
        conn = self.conn
        for kind in _SHARED:
            # Only the candidates (objects the TLD claimed before this FULL): no table scan.
            conn.execute(
                "INSERT INTO gone SELECT kind, key FROM cand WHERE kind = ? AND NOT EXISTS "
                "(SELECT 1 FROM claim WHERE claim.kind = cand.kind AND claim.key = cand.key)",
                (kind,),
            )
            if kind == "host":
                conn.execute(
                    "DELETE FROM host_addr WHERE host IN (SELECT key FROM gone WHERE kind='host')"
                )
            table, column = _SHARED[kind]
            conn.execute(
                f"DELETE FROM {table} WHERE {column} IN (SELECT key FROM gone WHERE kind = ?)",
                (kind,),
            )

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

    def _record(self, digest: str, tld: str) -> None:
        """One `deposit` row per (TLD, id): a resend replaces the row it repeats."""
        assert self.state is not None
        head = self.state.head
        self.conn.execute("DELETE FROM deposit WHERE tld = ? AND id = ?", (tld, head.id))
        self.conn.execute(
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


#: Shared objects (no TLD of their own): claim kind -> (table, key column).
_SHARED = {
    "contact": ("contact", "id"),
    "host": ("host", "name"),
    "registrar": ("registrar", "id"),
    "idn": ("idn_table", "id"),
}


def _delete_shared(conn: sqlite3.Connection, kind: str, key: str) -> None:
    if kind == "host":
        rows.delete_host(conn, key)  # with its addresses
        return
    table, column = _SHARED[kind]
    conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (key,))


#: What each message does (the Head starts the deposit: `_Applier.begin`).
_HANDLERS: dict[type, Callable[[_Applier, Any], None]] = {
    _Batch: _Applier._batch,
    rde.Delete: _Applier._delete,
    rde.Header: _Applier._header,
    rde.EppParams: _Applier._epp_params,
    rde.TldFacts: _Applier._tld_facts,
    rde.IdnTable: _Applier._idn,
    rde.Nndn: _Applier._nndn,
    rde.Notice: _Applier._notice,
}


def _connect(path: Path, fresh: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    # Triggers (the stored answers' in every replica, `replica.schema`; a PostgreSQL import's
    # working copy's, escrow.pg_import) must also see the rows that INSERT OR REPLACE deletes.
    conn.execute("PRAGMA recursive_triggers = ON")
    if fresh:
        # A private file, renamed into place when complete: no fsync per commit, and a
        # rollback journal on disk (cheap: a new file has few old pages to save) so that a
        # failed deposit after good ones rolls back cleanly.
        conn.execute("PRAGMA journal_mode = TRUNCATE")
        conn.execute("PRAGMA synchronous = OFF")
    else:
        conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _apply(conn: sqlite3.Connection, path: Path, report: Callable[[str], None]) -> Applied:
    """One deposit, one transaction; ImportFailed after rolling back."""
    file = path.name
    line = 0
    try:
        try:
            _prolog(path)
            applier = _Applier(conn, file, report)
            with _messages(path) as (msgs, digest):
                conn.execute("BEGIN IMMEDIATE")
                schema.migrate(conn)
                for msg in msgs:
                    line = msg.line
                    applier.apply(msg)
                if applier.state is None:
                    raise checks.Refused(line, "deposit: missing <rde:rdeMenu>")
                applied = applier.finish(digest(), line)
            conn.execute("COMMIT")
        except rde.DepositError as exc:
            raise ImportFailed(file, exc.line, exc.reason) from None
        except checks.Refused as exc:
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
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        raise
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
