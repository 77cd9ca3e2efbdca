"""Read-only replica store: a small pool of read-only SQLite connections, each owned by one
thread, and indexed point queries.

The servers' only access to registry data. Each lookup (a domain with its contacts, hosts,
DS and registrar; a host; a contact with its references; a registrar) is one synchronous
job on one connection's thread, inside one read transaction: it sees one consistent
snapshot even while the importer commits a deposit (SQLite WAL), and it costs one thread
hand-off each way however many queries it runs (docs/architecture.md, "The replica").
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import os
import re
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import orjson

from registry.errors import ReplicaError
from registry.model import (
    Contact,
    ContactRecord,
    ContactRole,
    CoopCategory,
    Domain,
    DomainContext,
    DomainRecord,
    DsData,
    Host,
    HostRecord,
    PersonKind,
    PostalInfo,
    References,
    Registrar,
    RegistrarRecord,
    ReplicaInfo,
    Tld,
    TldKind,
)
from registry.status import is_pending_delete
from replica import answers as answers_mod
from replica.answers import AnswerKind, AnswerMeta
from replica.readahead import ReadAhead
from replica.schema import (
    META_GENERATION,
    META_WATERMARK,
    SCHEMA_VERSION,
    fold,
    parse_time,
    split_words,
)

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_T = TypeVar("_T")

#: The two kinds of precomputed answer (`replica.answers`).

#: How many referencing domains per kind of reference (registrant, other roles) a lookup by
#: handle reads. A registrar's role contact may serve 100,000 domains; past the cap the
#: contexts are not read at all and the answer is decided as if one were at risk
#: (`References.complete` is False; docs/policy.md, "Contacts looked up by handle").
#: Measured on a 200,000-domain demo replica (2 loaded cores): counting past the cap ~0.1 ms;
#: reading the contexts of 100 domains ~0.5 ms, of 250 ~8 ms, of 1,000 ~44 ms.
REFERENCE_CAP = 100

#: A contact by folded handle (`schema.fold`: handles ignore case), with its sponsoring
#: registrar's URL (one primary-key join).
CONTACT_SQL = (
    "SELECT c.*, g.url AS registrar_url FROM contact AS c "
    "LEFT JOIN registrar AS g ON g.id = c.registrar WHERE c.handle_key = ?"
)

#: The distinct contexts of the domains that reference contact ?1, through the indexes
#: domain_registrant and domain_contact_contact. The first row carries `n`, the larger of the
#: two reference counts read (at most ?2 each), and so does every context row; those follow
#: only when n < ?2 (within the cap), so a contact over the cap costs two capped index counts
#: and nothing more (CROSS JOIN keeps `counted` the outer loop).
REFERENCES_SQL = """
WITH counted(n) AS (
    SELECT max(
        (SELECT count(*) FROM (SELECT 1 FROM domain WHERE registrant = ?1 LIMIT ?2)),
        (SELECT count(*) FROM (SELECT 1 FROM domain_contact WHERE contact = ?1 LIMIT ?2))
    )
), ref(domain, side) AS (
    SELECT name, 0 FROM (SELECT name FROM domain WHERE registrant = ?1 LIMIT ?2)
    UNION ALL
    SELECT domain, role IN ('administrative', 'billing')
    FROM (SELECT domain, role FROM domain_contact WHERE contact = ?1 LIMIT ?2)
)
SELECT n, NULL AS tld, NULL AS statuses, NULL AS at_risk, NULL AS domain, NULL AS side
FROM counted
UNION ALL
SELECT * FROM (
    SELECT DISTINCT counted.n, d.tld, d.statuses, coalesce(r.at_risk, 0), ref.domain, ref.side
    FROM counted
    CROSS JOIN ref
    JOIN domain AS d ON d.name = ref.domain
    LEFT JOIN contact AS r ON r.id = d.registrant
    WHERE counted.n < ?2
)
"""


@dataclass(frozen=True, slots=True)
class DomainKey:
    """A domain a search matched: its names, and the dates results can be sorted by (RFC
    3339 text, which sorts in time order)."""

    name: str
    uname: str | None = None
    created: str | None = None
    expires: str | None = None
    updated: str | None = None


#: The search queries (core.searcher), each served by the index named beside it; every one is
#: pinned by an EXPLAIN QUERY PLAN test (tests/integration/test_search_indexes.py). The
#: ranges are `key >= prefix AND key < upper_bound(prefix)` (registry.patterns).
_KEY = "d.name, d.uname, d.created, d.expires, d.updated"


def _window(column: str, *, after: bool, unique: bool = False) -> str:
    """Contacts from a key on (`after`) or just before it, in the order of `column`'s index
    (its (column, id) index; a unique column needs no tie-breaker)."""
    direction = "" if after else " DESC"
    order = f"c.{column}{direction}" + ("" if unique else f", c.id{direction}")
    return (
        "SELECT c.*, g.url AS registrar_url FROM contact AS c "
        f"LEFT JOIN registrar AS g ON g.id = c.registrar WHERE c.{column} "
        f"{'>=' if after else '<'} ? ORDER BY {order} LIMIT ?"
    )


SEARCH_SQL: dict[str, str] = {
    # domain name prefix, any TLD: the primary key's index
    "domain.name": f"SELECT {_KEY} FROM domain AS d WHERE d.name >= ?1 AND d.name < ?2 "
    "ORDER BY d.name LIMIT ?3",
    "domain.name.open": f"SELECT {_KEY} FROM domain AS d WHERE d.name >= ?1 "
    "ORDER BY d.name LIMIT ?3",
    # under one TLD: domain_tld_name
    "domain.tld.name": f"SELECT {_KEY} FROM domain AS d WHERE d.tld = ?4 AND d.name >= ?1 "
    "AND d.name < ?2 ORDER BY d.name LIMIT ?3",
    "domain.tld.name.open": f"SELECT {_KEY} FROM domain AS d WHERE d.tld = ?4 AND d.name >= ?1 "
    "ORDER BY d.name LIMIT ?3",
    # a U-label prefix: domain_uname, under one TLD domain_tld_uname
    "domain.uname": f"SELECT {_KEY} FROM domain AS d WHERE d.uname >= ?1 AND d.uname < ?2 "
    "ORDER BY d.uname LIMIT ?3",
    "domain.uname.open": f"SELECT {_KEY} FROM domain AS d WHERE d.uname >= ?1 "
    "ORDER BY d.uname LIMIT ?3",
    "domain.tld.uname": f"SELECT {_KEY} FROM domain AS d WHERE d.tld = ?4 AND d.uname >= ?1 "
    "AND d.uname < ?2 ORDER BY d.uname LIMIT ?3",
    "domain.tld.uname.open": f"SELECT {_KEY} FROM domain AS d WHERE d.tld = ?4 "
    "AND d.uname >= ?1 ORDER BY d.uname LIMIT ?3",
    # exact names: the primary key
    "domain.exact": f"SELECT {_KEY} FROM domain AS d WHERE d.name = ?",
    # domains on one nameserver: domain_ns_host, then the primary key
    "domain.host": f"SELECT {_KEY} FROM domain_ns AS n JOIN domain AS d ON d.name = n.domain "
    "WHERE n.host = ? ORDER BY n.domain LIMIT ?",
    # domains of one contact: domain_registrant; domain_contact_contact
    "domain.registrant": f"SELECT {_KEY} FROM domain AS d WHERE d.registrant = ? LIMIT ?",
    "domain.contact": f"SELECT {_KEY} FROM domain_contact AS c JOIN domain AS d "
    "ON d.name = c.domain WHERE c.contact = ? LIMIT ?",
    "domain.contact.role": f"SELECT {_KEY} FROM domain_contact AS c JOIN domain AS d "
    "ON d.name = c.domain WHERE c.contact = ? AND c.role = ? LIMIT ?",
    # host names by prefix: the primary key; by label suffix: host_rname
    "host.name": "SELECT name FROM host WHERE name >= ?1 AND name < ?2 ORDER BY name LIMIT ?3",
    "host.name.open": "SELECT name FROM host WHERE name >= ?1 ORDER BY name LIMIT ?3",
    "host.rname": "SELECT name FROM host WHERE rname >= ?1 AND rname < ?2 ORDER BY rname LIMIT ?3",
    "host.rname.open": "SELECT name FROM host WHERE rname >= ?1 ORDER BY rname LIMIT ?3",
    # host names by address: host_addr_ip
    "host.ip": "SELECT host FROM host_addr WHERE ip = ? ORDER BY host LIMIT ?",
    # the entity window: from a key on, matching or not (core.searcher), by its index, and
    # the entries just before the key where the index ends too soon
    "contact.fn": _window("fn_key", after=True),
    "contact.fn.before": _window("fn_key", after=False),
    "contact.email": _window("email_key", after=True),
    "contact.email.before": _window("email_key", after=False),
    "contact.addr": _window("addr_key", after=True),
    "contact.addr.before": _window("addr_key", after=False),
    "contact.handle": _window("handle_key", after=True, unique=True),
    "contact.handle.before": _window("handle_key", after=False, unique=True),
}


class Store(Protocol):
    """What the front-ends need from the replica."""

    @property
    def info(self) -> ReplicaInfo: ...

    async def refresh(self) -> bool: ...

    async def tlds(self) -> dict[str, Tld]: ...

    @property
    def served(self) -> dict[str, Tld]:
        """`tlds` as of the last `refresh`, from synchronous code."""
        ...

    async def domain(self, ldh: str) -> DomainRecord | None: ...

    async def host(self, ldh: str) -> HostRecord | None: ...

    async def hosts_by_ip(self, ip: str, limit: int = 50) -> list[HostRecord]: ...

    async def registrar_by_iana(self, iana_id: int) -> RegistrarRecord | None: ...

    async def registrar_by_id(self, rid: str) -> RegistrarRecord | None: ...

    async def registrars_by_name(self, name: str) -> list[RegistrarRecord]: ...

    async def contact(self, handle: str, reference_cap: int = ...) -> ContactRecord | None: ...

    # --- precomputed answers (replica.answers) ----------------------------------------------

    @property
    def answers(self) -> AnswerMeta | None:
        """How this replica's precomputed answers were made; None when it has none."""
        ...

    async def answer(self, ldh: str, kind: AnswerKind) -> bytes | None: ...

    def answer_soon(self, ldh: str, kind: AnswerKind) -> asyncio.Future[bytes | None] | None:
        """`answer` started now, from synchronous code: its future, or None when this replica
        holds no stored answers."""
        ...

    # --- searches (core.searcher) ---------------------------------------------------------

    async def domain_keys_by_name(
        self, low: str, high: str | None, *, tld: str | None, unicode: bool, limit: int
    ) -> list[DomainKey]: ...

    async def domain_keys_exact(self, names: Sequence[str]) -> list[DomainKey]: ...

    async def domain_keys_by_hosts(self, hosts: Sequence[str], limit: int) -> list[DomainKey]: ...

    async def domain_keys_by_contacts(
        self, handles: Sequence[str], role: ContactRole | None, limit: int
    ) -> list[DomainKey]: ...

    async def host_names(
        self, low: str, high: str | None, *, reverse: bool, limit: int
    ) -> list[str]: ...

    async def host_names_by_ip(self, ip: str, limit: int) -> list[str]: ...

    async def domains(self, names: Sequence[str]) -> list[DomainRecord]: ...

    async def hosts(self, names: Sequence[str]) -> list[HostRecord]: ...

    async def contacts_window(
        self, prop: str, start: str, window: int, reference_cap: int = ...
    ) -> list[ContactRecord]: ...

    async def registrars(self) -> list[RegistrarRecord]: ...


def check_readable(path: Path) -> None:
    """Raise ReplicaError with a one-line reason unless `path` is a readable rdds replica."""
    if not path.exists():
        raise ReplicaError(f"replica {path}: no such file")
    if not path.is_file():
        raise ReplicaError(f"replica {path}: not a regular file")
    if not os.access(path, os.R_OK):
        raise ReplicaError(f"replica {path}: permission denied")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise ReplicaError(f"replica {path}: not an rdds replica ({exc})") from None
    if row is None:
        raise ReplicaError(f"replica {path}: not an rdds replica (no schema version)")
    version = int(row[0]) if str(row[0]).isdigit() else 0
    if version < SCHEMA_VERSION:
        raise ReplicaError(
            f"replica {path}: written by an older rdds (schema {version}, this one reads "
            f"{SCHEMA_VERSION}); rebuild it (rdds demo --out, or rdds import --replica NEW "
            "with its deposits) or import a deposit into it to upgrade it in place"
        )
    if version > SCHEMA_VERSION:
        raise ReplicaError(
            f"replica {path}: written by a newer rdds (schema {version}, this one reads "
            f"{SCHEMA_VERSION}); upgrade rdds or rebuild the replica with this one"
        )


class _Reader:
    """One read-only sqlite3 connection owned by one thread: the connection is opened, used
    and closed only on its own single-thread executor, so a whole lookup (every query, in
    one read transaction) is one job: one hand-off to the thread and one back."""

    __slots__ = ("_conn", "_executor")

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rdds-replica")
        self._conn: sqlite3.Connection | None = None

    async def open(self, uri: str) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._open, uri)

    def _open(self, uri: str) -> None:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=True)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA query_only = ON")  # defence in depth: never write
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    async def run(self, job: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run `job` on this connection's thread inside one read transaction."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._txn, job)

    def _txn(self, job: Callable[[sqlite3.Connection], _T]) -> _T:
        conn = self._conn
        if conn is None:
            raise sqlite3.ProgrammingError("replica connection is closed")
        conn.execute("BEGIN")
        try:
            return job(conn)
        finally:
            conn.execute("COMMIT")

    async def close(self) -> None:
        with contextlib.suppress(RuntimeError):  # the executor is already shut down
            await asyncio.get_running_loop().run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=False)

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class SqliteStore:
    """The replica on disk, opened read-only through a small pool of connections, each on
    its own thread; every lookup is one job on one of them (see `_Reader`)."""

    def __init__(self, path: Path, pool_size: int = 4) -> None:
        self.path = path
        self._pool_size = pool_size
        #: The read-ahead of the stored answers, once `read_ahead_answers` has started it.
        self.read_ahead: ReadAhead | None = None
        self._pool: asyncio.Queue[_Reader] = asyncio.Queue()
        self._all: list[_Reader] = []
        self._info = ReplicaInfo(0, _EPOCH)
        self._tlds: dict[str, Tld] = {}
        self._inode = 0
        self._closing: set[asyncio.Task[None]] = set()
        self._retired: list[_Reader] = []
        #: Registrars decoded once per generation (a few hundred rows that every domain
        #: lookup needs one of); replaced, not cleared, when the generation changes.
        self._registrars: dict[str, Registrar] = {}
        self._answers: AnswerMeta | None = None
        #: Stored-answer reads waiting for this turn's job, and the jobs under way.
        self._pending: list[tuple[str, AnswerKind, asyncio.Future[bytes | None]]] = []
        self._reading: set[asyncio.Task[list[bytes | answers_mod.Damaged | None]]] = set()

    @property
    def info(self) -> ReplicaInfo:
        """The generation and watermark last seen by `refresh`."""
        return self._info

    async def open(self) -> None:
        """Open the pool (read-only) and read the replica metadata."""
        self._all, self._pool, self._inode = await self._connect()
        await self.refresh()

    def read_ahead_answers(self) -> ReadAhead:
        """Start reading the stored answers into the OS page cache on a thread of its own
        (`replica.readahead`; once: later calls return the same one). `close` stops it."""
        if self.read_ahead is None:
            self.read_ahead = ReadAhead(self.path)
            self.read_ahead.start()
        return self.read_ahead

    async def _connect(self) -> tuple[list[_Reader], asyncio.Queue[_Reader], int]:
        check_readable(self.path)
        inode = os.stat(self.path).st_ino
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        readers: list[_Reader] = []
        pool: asyncio.Queue[_Reader] = asyncio.Queue()
        try:
            for _ in range(self._pool_size):
                reader = _Reader()
                readers.append(reader)
                await reader.open(uri)
                pool.put_nowait(reader)
        except BaseException:
            for reader in readers:
                await reader.close()
            raise
        return readers, pool, inode

    async def _reopen_if_replaced(self) -> None:
        """A FULL import may rename a new file over the replica: follow it (new inode)."""
        try:
            inode = os.stat(self.path).st_ino
        except OSError:
            return  # mid-rename or removed: keep serving the file we have open
        if inode == self._inode:
            return
        readers, pool, inode = await self._connect()
        old = self._all
        self._all, self._pool, self._inode = readers, pool, inode
        self._tlds = {}  # force a metadata re-read on the new file

        # In-flight lookups hold their own connection objects; close the old ones shortly after.
        self._retired += old

        async def close_later() -> None:
            await asyncio.sleep(5)
            for reader in old:
                if reader in self._retired:
                    self._retired.remove(reader)
                    await reader.close()

        self._closing.add(asyncio.create_task(close_later()))
        self._closing = {t for t in self._closing if not t.done()}

    async def close(self) -> None:
        """Close every connection."""
        if self.read_ahead is not None:
            self.read_ahead.stop()  # interrupted at its next step: a few milliseconds at most
        for task in self._closing:
            task.cancel()
        for reader in [*self._all, *self._retired]:
            await reader.close()
        self._all.clear()
        self._retired.clear()

    async def _run(self, job: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run one lookup (`job`, synchronous, every query it needs) in one read transaction
        on a pooled connection's thread: one consistent snapshot, one thread hop."""
        pool = self._pool
        reader = await pool.get()
        try:
            return await reader.run(job)
        except sqlite3.Error as exc:
            raise ReplicaError() from exc
        finally:
            pool.put_nowait(reader)  # back to the pool it came from (a reopen swaps pools)

    async def refresh(self) -> bool:
        """Re-read generation and watermark; True when the generation changed."""
        await self._reopen_if_replaced()
        known = self._info.generation if self._tlds else None
        found = await self._run(lambda conn: _read_meta(conn, known))
        if found is None:
            return False
        generation, watermark, tlds, answers = found
        self._tlds = tlds
        self._info = ReplicaInfo(generation, watermark)
        self._answers = answers
        self._registrars = {}
        return True

    async def tlds(self) -> dict[str, Tld]:
        """The TLDs this replica serves, by A-label."""
        return self._tlds

    @property
    def served(self) -> dict[str, Tld]:
        """`tlds` as of the last `refresh`, from synchronous code."""
        return self._tlds

    async def domain(self, ldh: str) -> DomainRecord | None:
        """A domain by lower-case A-label, with everything it references."""
        tlds, info, registrars = self._tlds, self._info, self._registrars
        return await self._run(lambda conn: read_domain(conn, ldh, tlds, info, registrars))

    @property
    def answers(self) -> AnswerMeta | None:
        """How the precomputed answers were made, as of the last `refresh`; None without."""
        return self._answers

    async def answer(self, ldh: str, kind: AnswerKind) -> bytes | None:
        """The stored answer of one kind ("rdap" or "whois") for a domain, if there is one,
        inflated (`replica.answers.inflate`; raises its `Damaged` for a damaged row).

        Reads asked for in the same turn of the event loop go to the thread as one job (a
        crawler's concurrent requests share one hand-off instead of one each), which also
        inflates them: zlib lets go of the GIL meanwhile, so the loop's thread goes on."""
        future = self.answer_soon(ldh, kind)
        return None if future is None else await future

    def answer_soon(self, ldh: str, kind: AnswerKind) -> asyncio.Future[bytes | None] | None:
        """`answer` started now (joining this turn's job), from synchronous code: its future
        (cancel it to give up), or None when the replica holds no stored answers."""
        meta = self._answers
        if meta is None:
            return None
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bytes | None] = loop.create_future()
        self._pending.append((ldh, kind, future))
        if len(self._pending) == 1:
            loop.call_soon(self._read_answers, meta)
        return future

    def _read_answers(self, meta: AnswerMeta) -> None:
        batch, self._pending = self._pending, []
        keys = [(ldh, kind) for ldh, kind, _ in batch]

        def job(conn: sqlite3.Connection) -> list[bytes | answers_mod.Damaged | None]:
            # The same build as the metadata in hand (a rebuild changes the sentinel and the
            # dictionaries, and the generation only once it is committed): else no answer.
            found = conn.execute(
                "SELECT value FROM meta WHERE key = ?", (answers_mod.META_SENTINEL,)
            ).fetchone()
            if found is None or found[0] != meta.sentinel:
                return [None] * len(keys)
            found_by: dict[tuple[str, str], bytes | answers_mod.Damaged] = {}
            for kind in {kind for _, kind in keys}:
                names = sorted({ldh for ldh, k in keys if k == kind})
                for start in range(0, len(names), _IN_CHUNK):
                    chunk = names[start : start + _IN_CHUNK]
                    sql = _ANSWERS_SQL[kind].format(",".join("?" * len(chunk)))
                    for name, blob in conn.execute(sql, chunk):
                        try:
                            found_by[(name, kind)] = answers_mod.inflate(meta, kind, blob)
                        except answers_mod.Damaged as exc:
                            found_by[(name, kind)] = exc
            return [found_by.get(key) for key in keys]

        def deliver(task: asyncio.Task[list[bytes | answers_mod.Damaged | None]]) -> None:
            exc = None if task.cancelled() else task.exception()
            for i, (_, _, future) in enumerate(batch):
                if future.done():
                    continue  # its request was cancelled meanwhile
                if task.cancelled():
                    future.cancel()
                elif exc is not None:
                    future.set_exception(exc)
                else:
                    found = task.result()[i]
                    if isinstance(found, answers_mod.Damaged):
                        future.set_exception(found)
                    else:
                        future.set_result(found)

        task = asyncio.ensure_future(self._run(job))
        task.add_done_callback(deliver)
        self._reading.add(task)
        task.add_done_callback(self._reading.discard)

    async def host(self, ldh: str) -> HostRecord | None:
        """A host object by lower-case A-label."""
        info = self._info
        return await self._run(lambda conn: _read_host(conn, ldh, info))

    async def hosts_by_ip(self, ip: str, limit: int = 50) -> list[HostRecord]:
        """Host objects with this address (canonical form), at most `limit`."""
        canonical = str(ipaddress.ip_address(ip))
        info = self._info
        return await self._run(lambda conn: _read_hosts_by_ip(conn, canonical, limit, info))

    async def registrar_by_iana(self, iana_id: int) -> RegistrarRecord | None:
        """A registrar by IANA Registrar ID."""
        row = await self._run(
            lambda conn: _one(conn, "SELECT * FROM registrar WHERE iana_id = ?", (iana_id,))
        )
        return RegistrarRecord(_registrar(row), self._info) if row else None

    async def registrar_by_id(self, rid: str) -> RegistrarRecord | None:
        """A registrar by its registry id (clID), ignoring ASCII case: the exact id wins, else
        the one id that differs only in case (two such ids: none)."""
        # Index registrar_id_nocase (replica/schema.py) serves this; no scan.
        rows = await self._run(
            lambda conn: _all(
                conn, "SELECT * FROM registrar WHERE id = ? COLLATE NOCASE LIMIT 10", (rid,)
            )
        )
        exact = [r for r in rows if r["id"] == rid]
        row = exact[0] if exact else rows[0] if len(rows) == 1 else None
        return RegistrarRecord(_registrar(row), self._info) if row else None

    async def registrars_by_name(self, name: str) -> list[RegistrarRecord]:
        """Registrars whose name matches exactly, ignoring case."""
        rows = await self._run(
            lambda conn: _all(
                conn,
                "SELECT * FROM registrar WHERE name = ? COLLATE NOCASE ORDER BY id LIMIT 10",
                (name,),
            )
        )
        return [RegistrarRecord(_registrar(r), self._info) for r in rows]

    async def contact(
        self, handle: str, reference_cap: int = REFERENCE_CAP
    ) -> ContactRecord | None:
        """A contact by handle (ignoring case), with the contexts of the domains that
        reference it (at most `reference_cap` of them per kind of reference are read; beyond,
        `complete` is False)."""
        tlds, info = self._tlds, self._info
        return await self._run(lambda conn: _read_contact(conn, handle, reference_cap, tlds, info))

    # --- searches ---------------------------------------------------------------------------

    async def domain_keys_by_name(
        self, low: str, high: str | None, *, tld: str | None, unicode: bool, limit: int
    ) -> list[DomainKey]:
        """Domains whose name (A-labels; with `unicode`, U-labels) is in [low, high), under
        `tld` if given, in index order, at most `limit`."""
        name = "domain" + (".tld" if tld is not None else "") + (".uname" if unicode else ".name")
        sql = SEARCH_SQL[name + ("" if high is not None else ".open")]
        args = _named(sql, (low, high, limit, tld))
        rows = await self._run(lambda conn: _all(conn, sql, args))
        return [_domain_key(r) for r in rows]

    async def domain_keys_exact(self, names: Sequence[str]) -> list[DomainKey]:
        """The domains of these exact names that exist, in the order given."""
        sql = SEARCH_SQL["domain.exact"]
        rows = await self._run(lambda conn: [_one(conn, sql, (n,)) for n in names])
        return [_domain_key(r) for r in rows if r is not None]

    async def domain_keys_by_hosts(self, hosts: Sequence[str], limit: int) -> list[DomainKey]:
        """Domains delegated to any of these nameservers, at most `limit` per nameserver read,
        merged in name order and cut to `limit` (a domain on two of them once)."""
        sql = SEARCH_SQL["domain.host"]
        batches = await self._run(lambda conn: [_all(conn, sql, (h, limit)) for h in hosts])
        return _merged([r for rows in batches for r in rows], limit)

    async def domain_keys_by_contacts(
        self, handles: Sequence[str], role: ContactRole | None, limit: int
    ) -> list[DomainKey]:
        """Domains referencing any of these contacts (in `role`, or in any role), at most
        `limit` read per contact and kind of reference, in name order, cut to `limit`."""
        rows = await self._run(lambda conn: _read_by_contacts(conn, handles, role, limit))
        return _merged(rows, limit)

    async def host_names(
        self, low: str, high: str | None, *, reverse: bool, limit: int
    ) -> list[str]:
        """Host object names in [low, high) (with `reverse`, of their reversed-label form),
        in index order, at most `limit`."""
        sql = SEARCH_SQL[("host.rname" if reverse else "host.name") + ("" if high else ".open")]
        args = _named(sql, (low, high, limit))
        rows = await self._run(lambda conn: _all(conn, sql, args))
        return [r[0] for r in rows]

    async def host_names_by_ip(self, ip: str, limit: int) -> list[str]:
        """Host object names with this address (canonical form), in name order."""
        canonical = str(ipaddress.ip_address(ip))
        rows = await self._run(lambda conn: _all(conn, SEARCH_SQL["host.ip"], (canonical, limit)))
        return [r[0] for r in rows]

    async def domains(self, names: Sequence[str]) -> list[DomainRecord]:
        """Full domain records, in the order given (absent ones skipped): one job."""
        tlds, info = self._tlds, self._info
        registrars = self._registrars
        found = await self._run(
            lambda conn: [read_domain(conn, n, tlds, info, registrars) for n in names]
        )
        return [r for r in found if r is not None]

    async def hosts(self, names: Sequence[str]) -> list[HostRecord]:
        """Host objects, in the order given (absent ones skipped): one job."""
        info = self._info
        found = await self._run(lambda conn: [_read_host(conn, n, info) for n in names])
        return [r for r in found if r is not None]

    async def contacts_window(
        self, prop: str, start: str, window: int, reference_cap: int = REFERENCE_CAP
    ) -> list[ContactRecord]:
        """`window` contacts around `start` in the index of `prop` (fn, email, addr, handle),
        matching or not, each with its referencing contexts (as `contact`): those from
        `start` on, and where the index ends before `window` of them, the ones just before
        `start`. Security: always `window` of them (or the whole index when it is smaller), so
        the work done says nothing about whether a key equal to `start` exists. One job."""
        tlds, info = self._tlds, self._info
        return await self._run(
            lambda conn: _read_window(conn, prop, start, window, reference_cap, tlds, info)
        )

    async def registrars(self) -> list[RegistrarRecord]:
        """Every registrar (a registry has a few thousand at most)."""
        rows = await self._run(lambda conn: _all(conn, "SELECT * FROM registrar ORDER BY id", ()))
        return [RegistrarRecord(_registrar(r), self._info) for r in rows]


async def open_store(path: Path, pool_size: int = 4) -> SqliteStore:
    """Open a read-only store on the replica at `path`."""
    store = SqliteStore(path, pool_size)
    try:
        await store.open()
    except BaseException:
        await store.close()
        raise
    return store


# --- one lookup each: synchronous, on the connection's thread, inside its transaction ----


def _one(conn: sqlite3.Connection, sql: str, args: tuple[Any, ...]) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute(sql, args).fetchone()
    return row


def _all(conn: sqlite3.Connection, sql: str, args: tuple[Any, ...]) -> list[sqlite3.Row]:
    return conn.execute(sql, args).fetchall()


#: One query per kind for a whole batch of reads (`SqliteStore.answer`), in chunks within
#: SQLite's default limit of host parameters.
_ANSWERS_SQL: dict[AnswerKind, str] = {
    "rdap": "SELECT name, rdap FROM answer WHERE name IN ({})",
    "whois": "SELECT name, whois FROM answer WHERE name IN ({})",
}
_IN_CHUNK = 500


def _read_meta(
    conn: sqlite3.Connection, known: int | None
) -> tuple[int, dt.datetime, dict[str, Tld], AnswerMeta | None] | None:
    """Generation, watermark, TLDs and the precomputed answers' metadata; None when the
    generation is still `known`."""
    meta: dict[str, str] = {
        r[0]: r[1]
        for r in _all(
            conn,
            "SELECT key, value FROM meta WHERE key IN (?, ?)",
            (META_GENERATION, META_WATERMARK),
        )
    }
    generation = int(meta.get(META_GENERATION, "0"))
    if generation == known:
        return None
    tlds = {row["name"]: _tld(row) for row in _all(conn, "SELECT * FROM tld", ())}
    answers = answers_mod.read_meta(conn) if answers_mod.has_table(conn) else None
    return generation, parse_time(meta.get(META_WATERMARK)) or _EPOCH, tlds, answers


_ROLE_ORDER = {role: i for i, role in enumerate(ContactRole)}


def read_domain(
    conn: sqlite3.Connection,
    ldh: str,
    tlds: dict[str, Tld],
    info: ReplicaInfo,
    registrars: dict[str, Registrar] | None = None,
) -> DomainRecord | None:
    """A domain and everything it references, in as few queries as the tables allow: the
    domain row, its contact roles, name servers and DS, then every contact in one query and
    every registry-held host (with its addresses) in two; the sponsor from `registrars`
    (the store's per-generation memo) when it is there."""
    row = _one(conn, "SELECT * FROM domain WHERE name = ?", (ldh,))
    if row is None:
        return None
    contact_rows = _all(conn, "SELECT role, contact FROM domain_contact WHERE domain = ?", (ldh,))
    ns_rows = _all(conn, "SELECT host, addrs FROM domain_ns WHERE domain = ? ORDER BY pos", (ldh,))
    ds_rows = _all(conn, "SELECT * FROM domain_ds WHERE domain = ?", (ldh,))
    roles: list[tuple[ContactRole, str]] = []
    if row["registrant"]:
        roles.append((ContactRole.REGISTRANT, row["registrant"]))
    pairs = sorted(
        ((ContactRole(r[0]), r[1]) for r in contact_rows), key=lambda p: (_ROLE_ORDER[p[0]], p[1])
    )
    roles += pairs
    found = _contacts_by_id(conn, {handle for _, handle in roles})
    contacts = [(role, found[handle]) for role, handle in roles if handle in found]
    hosts = _hosts_for_domain(conn, [(r[0], r[1]) for r in ns_rows])
    rid = row["registrar"]
    registrar = registrars.get(rid) if registrars is not None else None
    if registrar is None:
        rr = _one(conn, "SELECT * FROM registrar WHERE id = ?", (rid,))
        if rr is not None:
            registrar = _registrar(rr)
            if registrars is not None:
                registrars[rid] = registrar
    domain = _domain(row, roles, tuple(r[0] for r in ns_rows), ds_rows)
    tld = tlds.get(domain.tld)
    if tld is None or registrar is None:
        # A domain whose TLD or sponsor is missing is an import defect; never half-render.
        raise ReplicaError()
    return DomainRecord(
        domain=domain,
        tld=tld,
        registrar=registrar,
        contacts=tuple(contacts),
        hosts=hosts,
        info=info,
    )


def _placeholders(n: int) -> str:
    return ",".join("?" * n)


def _contacts_by_id(conn: sqlite3.Connection, handles: set[str]) -> dict[str, Contact]:
    """The contacts with these ids (one query); absent ones are left out."""
    if not handles:
        return {}
    ids = sorted(handles)
    rows = _all(conn, f"SELECT * FROM contact WHERE id IN ({_placeholders(len(ids))})", tuple(ids))
    return {r["id"]: _contact(r) for r in rows}


def _hosts_for_domain(
    conn: sqlite3.Connection, ns: list[tuple[str, str | None]]
) -> tuple[Host, ...]:
    """A domain's name servers in order: registry-held host objects (addresses None in
    `domain_ns`) read in two queries, the others from the addresses stored beside the
    delegation. An external host object missing from a partial replica shows its name only."""
    wanted = sorted({name for name, addrs in ns if addrs is None})
    objects = _host_objects(conn, wanted) if wanted else {}
    out: list[Host] = []
    for name, addrs in ns:
        if addrs is None:
            found = objects.get(name)
            out.append(found if found is not None else Host(name=name))
            continue
        ips = [ipaddress.ip_address(a) for a in orjson.loads(addrs)]
        out.append(
            Host(
                name=name,
                v4=tuple(str(i) for i in ips if i.version == 4),
                v6=tuple(str(i) for i in ips if i.version == 6),
            )
        )
    return tuple(out)


def _host_objects(conn: sqlite3.Connection, names: list[str]) -> dict[str, Host]:
    """Host objects by name, with their addresses (v4 then v6, each in `ip` order)."""
    marks = _placeholders(len(names))
    rows = _all(conn, f"SELECT * FROM host WHERE name IN ({marks})", tuple(names))
    if not rows:
        return {}
    v4: dict[str, list[str]] = {}
    v6: dict[str, list[str]] = {}
    for host, ip, version in _all(
        conn,
        f"SELECT host, ip, version FROM host_addr WHERE host IN ({marks}) ORDER BY version, ip",
        tuple(names),
    ):
        (v4 if version == 4 else v6).setdefault(host, []).append(ip)
    return {
        r["name"]: _host_row(r, tuple(v4.get(r["name"], ())), tuple(v6.get(r["name"], ())))
        for r in rows
    }


def _read_host(conn: sqlite3.Connection, ldh: str, info: ReplicaInfo) -> HostRecord | None:
    host = _host_object(conn, ldh)
    if host is None:
        return None
    rr = _one(conn, "SELECT * FROM registrar WHERE id = ?", (host.registrar,))
    return HostRecord(host=host, registrar=_registrar(rr) if rr else None, info=info)


def _read_hosts_by_ip(
    conn: sqlite3.Connection, canonical: str, limit: int, info: ReplicaInfo
) -> list[HostRecord]:
    names = _all(
        conn, "SELECT host FROM host_addr WHERE ip = ? ORDER BY host LIMIT ?", (canonical, limit)
    )
    out: list[HostRecord] = []
    for (name,) in names:
        found = _read_host(conn, name, info)
        if found is not None:
            out.append(found)
    return out


def reference_contexts(rows: Sequence[Sequence[Any]], tlds: dict[str, Tld]) -> set[DomainContext]:
    """The contexts of a contact's referencing domains, from (tld, statuses, at_risk, domain,
    side) rows, one per domain and kind of reference (`side`: an administrative or billing
    reference). A domain where every reference is a side one, in an ICANN-profile TLD, is a
    `side_only` context. Both stores share this."""
    seen: dict[str, tuple[str, str, Any]] = {}
    side: dict[str, bool] = {}
    for tld_name, statuses, at_risk, domain, is_side in rows:
        seen[domain] = (tld_name, statuses, at_risk)
        side[domain] = side.get(domain, True) and bool(is_side)
    out: set[DomainContext] = set()
    for domain, (tld_name, statuses, at_risk) in seen.items():
        tld = tlds.get(tld_name)
        if tld is None:
            raise ReplicaError()  # an import defect: never decide without the policy
        out.add(
            DomainContext(
                section=tld.policy,
                disclose_default=tld.disclose_default,
                registrant_at_risk=bool(at_risk),
                pending_delete=is_pending_delete(split_words(statuses)),
                side_only=side[domain] and tld.kind.icann_profile,
            )
        )
    return out


def _read_contact(
    conn: sqlite3.Connection,
    handle: str,
    reference_cap: int,
    tlds: dict[str, Tld],
    info: ReplicaInfo,
) -> ContactRecord | None:
    row = _one(conn, CONTACT_SQL, (fold(handle),))
    if row is None:
        return None
    return _contact_record(conn, row, reference_cap, tlds, info)


def _contact_record(
    conn: sqlite3.Connection,
    row: sqlite3.Row,
    reference_cap: int,
    tlds: dict[str, Tld],
    info: ReplicaInfo,
) -> ContactRecord:
    """A contact row (CONTACT_SQL's columns) with the contexts of its referencing domains."""
    refs = _all(conn, REFERENCES_SQL, (row["id"], reference_cap + 1))
    # The count row has no domain (every other row does: domain.tld is NOT NULL).
    contexts = reference_contexts(
        [tuple(r)[1:] for r in refs if r["tld"] is not None],
        tlds,
    )
    complete = max(r["n"] for r in refs) <= reference_cap
    return ContactRecord(
        _contact(row),
        info,
        References(frozenset(contexts) if complete else frozenset(), complete),
        registrar_url=row["registrar_url"],
    )


def _read_window(
    conn: sqlite3.Connection,
    prop: str,
    start: str,
    window: int,
    reference_cap: int,
    tlds: dict[str, Tld],
    info: ReplicaInfo,
) -> list[ContactRecord]:
    rows = _all(conn, SEARCH_SQL[f"contact.{prop}"], (start, window))
    if len(rows) < window:
        rows += _all(conn, SEARCH_SQL[f"contact.{prop}.before"], (start, window - len(rows)))
    return [_contact_record(conn, row, reference_cap, tlds, info) for row in rows]


def _read_by_contacts(
    conn: sqlite3.Connection, handles: Sequence[str], role: ContactRole | None, limit: int
) -> list[sqlite3.Row]:
    rows: list[sqlite3.Row] = []
    for handle in handles:
        if role in (None, ContactRole.REGISTRANT):
            rows += _all(conn, SEARCH_SQL["domain.registrant"], (handle, limit))
        if role is None:
            rows += _all(conn, SEARCH_SQL["domain.contact"], (handle, limit))
        elif role is not ContactRole.REGISTRANT:
            rows += _all(conn, SEARCH_SQL["domain.contact.role"], (handle, role.value, limit))
    return rows


def _merged(rows: Sequence[sqlite3.Row], limit: int) -> list[DomainKey]:
    """Domain key rows of several index reads: each domain once, in name order, cut."""
    found: dict[str, DomainKey] = {}
    for row in rows:
        found.setdefault(row[0], _domain_key(row))
    return [found[n] for n in sorted(found)][:limit]


def _named(sql: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """The numbered parameters (?1, ?2, ...) a statement uses, from `args` in order."""
    used = max(int(n) for n in re.findall(r"\?(\d)", sql))
    return args[:used]


def _domain_key(row: sqlite3.Row) -> DomainKey:
    return DomainKey(row[0], row[1], row[2], row[3], row[4])


# --- row decoding ------------------------------------------------------------------------


def _host_object(conn: sqlite3.Connection, name: str) -> Host | None:
    row = _one(conn, "SELECT * FROM host WHERE name = ?", (name,))
    if row is None:
        return None
    addrs = _all(
        conn, "SELECT ip, version FROM host_addr WHERE host = ? ORDER BY version, ip", (name,)
    )
    return _host_row(
        row,
        tuple(a["ip"] for a in addrs if a["version"] == 4),
        tuple(a["ip"] for a in addrs if a["version"] == 6),
    )


def _host_row(row: sqlite3.Row, v4: tuple[str, ...], v6: tuple[str, ...]) -> Host:
    return Host(
        name=row["name"],
        roid=row["roid"],
        statuses=split_words(row["statuses"]) or ("ok",),
        v4=v4,
        v6=v6,
        registrar=row["registrar"],
        created=parse_time(row["created"]),
        updated=parse_time(row["updated"]),
    )


def _tld(row: sqlite3.Row) -> Tld:
    return Tld(
        name=row["name"],
        kind=TldKind(row["kind"]),
        policy=row["policy"],
        roid_suffix=row["roid_suffix"],
        disclose_default=bool(row["disclose_default"]),
    )


def _registrar(row: sqlite3.Row) -> Registrar:
    return Registrar(
        id=row["id"],
        name=row["name"],
        iana_id=row["iana_id"],
        status=row["status"],
        street=tuple(orjson.loads(row["street"] or "[]")),
        city=row["city"],
        sp=row["sp"],
        pc=row["pc"],
        cc=row["cc"],
        voice=row["voice"],
        fax=row["fax"],
        email=row["email"],
        url=row["url"],
        whois_server=row["whois_server"],
        abuse_email=row["abuse_email"],
        abuse_phone=row["abuse_phone"],
        created=parse_time(row["created"]),
        updated=parse_time(row["updated"]),
        rdap_base_url=row["rdap_base_url"],
    )


def _contact(row: sqlite3.Row) -> Contact:
    postal = tuple(
        PostalInfo(
            type=p["type"],
            name=p.get("name") or "",
            org=p.get("org"),
            street=tuple(p.get("street") or ()),
            city=p.get("city") or "",
            sp=p.get("sp"),
            pc=p.get("pc"),
            cc=p.get("cc") or "",
        )
        for p in orjson.loads(row["postal"])
    )
    return Contact(
        handle=row["id"],
        roid=row["roid"],
        postal=postal,
        email=row["email"],
        voice=row["voice"],
        voice_ext=row["voice_ext"],
        fax=row["fax"],
        fax_ext=row["fax_ext"],
        kind=PersonKind(row["kind"]),
        at_risk=bool(row["at_risk"]),
        verified=bool(row["verified"]),
        disclose_yes=frozenset(split_words(row["disclose_yes"])),
        disclose_no=frozenset(split_words(row["disclose_no"])),
        registrar=row["registrar"],
        statuses=split_words(row["statuses"]) or ("ok",),
        created=parse_time(row["created"]),
        updated=parse_time(row["updated"]),
    )


def _domain(
    row: sqlite3.Row,
    roles: list[tuple[ContactRole, str]],
    nameservers: tuple[str, ...],
    ds_rows: list[sqlite3.Row],
) -> Domain:
    created = parse_time(row["created"])
    assert created is not None  # NOT NULL in the schema
    return Domain(
        name=row["name"],
        roid=row["roid"],
        tld=row["tld"],
        statuses=split_words(row["statuses"]),
        registrar=row["registrar"],
        created=created,
        unicode_name=row["uname"],
        rgp_statuses=split_words(row["rgp"]),
        registrant=row["registrant"],
        contacts=tuple((r, h) for r, h in roles if r is not ContactRole.REGISTRANT),
        nameservers=nameservers,
        expires=parse_time(row["expires"]),
        updated=parse_time(row["updated"]),
        transferred=parse_time(row["transferred"]),
        ds_data=tuple(
            DsData(r["key_tag"], r["algorithm"], r["digest_type"], r["digest"]) for r in ds_rows
        ),
        idn_table=row["idn_table"],
        coop_category=CoopCategory(row["coop_category"]) if row["coop_category"] else None,
        coop_certified=None if row["coop_certified"] is None else bool(row["coop_certified"]),
        suspension_reason=row["suspension_reason"],
    )
