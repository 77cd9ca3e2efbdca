"""The replica store as it was before lookups became one job each: every query its own
aiosqlite round trip. Kept only as the reference the one-hop store is compared against
(tests/integration/test_store_reference.py); the product never imports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import json
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite

from registry.errors import ReplicaError
from registry.model import (
    Contact,
    ContactRecord,
    ContactRole,
    DomainRecord,
    Host,
    HostRecord,
    References,
    RegistrarRecord,
    ReplicaInfo,
    Tld,
)
from replica.schema import (
    META_GENERATION,
    META_WATERMARK,
    fold,
    parse_time,
    split_words,
)
from replica.store import (
    CONTACT_SQL,
    REFERENCE_CAP,
    REFERENCES_SQL,
    _contact,
    _domain,
    _registrar,
    _tld,
    check_readable,
    reference_contexts,
)

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class ReferenceStore:
    """The replica on disk through a pool of aiosqlite connections, one query per round trip."""

    def __init__(self, path: Path, pool_size: int = 4) -> None:
        self.path = path
        self._pool_size = pool_size
        self._pool: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._all: list[aiosqlite.Connection] = []
        self._info = ReplicaInfo(0, _EPOCH)
        self._tlds: dict[str, Tld] = {}
        self._inode = 0
        self._closing: set[asyncio.Task[None]] = set()
        self._retired: list[aiosqlite.Connection] = []

    @property
    def info(self) -> ReplicaInfo:
        """The generation and watermark last seen by `refresh`."""
        return self._info

    async def open(self) -> None:
        """Open the pool (read-only) and read the replica metadata."""
        self._all, self._pool, self._inode = await self._connect()
        await self.refresh()

    async def _connect(
        self,
    ) -> tuple[list[aiosqlite.Connection], asyncio.Queue[aiosqlite.Connection], int]:
        check_readable(self.path)
        inode = os.stat(self.path).st_ino
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        conns: list[aiosqlite.Connection] = []
        pool: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        try:
            for _ in range(self._pool_size):
                conn = await aiosqlite.connect(uri, uri=True, isolation_level=None)
                conns.append(conn)
                await conn.execute("PRAGMA query_only = ON")  # defence in depth: never write
                pool.put_nowait(conn)
        except BaseException:
            for conn in conns:
                await conn.close()
            raise
        return conns, pool, inode

    async def _reopen_if_replaced(self) -> None:
        """A FULL import may rename a new file over the replica: follow it (new inode)."""
        try:
            inode = os.stat(self.path).st_ino
        except OSError:
            return  # mid-rename or removed: keep serving the file we have open
        if inode == self._inode:
            return
        conns, pool, inode = await self._connect()
        old = self._all
        self._all, self._pool, self._inode = conns, pool, inode
        self._tlds = {}  # force a metadata re-read on the new file

        # In-flight lookups hold their own connection objects; close the old ones shortly after.
        self._retired += old

        async def close_later() -> None:
            await asyncio.sleep(5)
            for conn in old:
                if conn in self._retired:
                    self._retired.remove(conn)
                    await conn.close()

        self._closing.add(asyncio.create_task(close_later()))
        self._closing = {t for t in self._closing if not t.done()}

    async def close(self) -> None:
        """Close every connection."""
        for task in self._closing:
            task.cancel()
        for conn in [*self._all, *self._retired]:
            await conn.close()
        self._all.clear()
        self._retired.clear()

    @contextlib.asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[aiosqlite.Connection]:
        pool = self._pool
        conn = await pool.get()
        try:
            await conn.execute("BEGIN")
            try:
                yield conn
            finally:
                await conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise ReplicaError() from exc
        finally:
            pool.put_nowait(conn)  # back to the pool it came from (a reopen swaps pools)

    async def refresh(self) -> bool:
        """Re-read generation and watermark; True when the generation changed."""
        await self._reopen_if_replaced()
        async with self._snapshot() as conn:
            meta: dict[str, str] = {
                r[0]: r[1]
                for r in await _all(
                    conn,
                    "SELECT key, value FROM meta WHERE key IN (?, ?)",
                    (META_GENERATION, META_WATERMARK),
                )
            }
            generation = int(meta.get(META_GENERATION, "0"))
            if generation == self._info.generation and self._tlds:
                return False
            rows = await _all(conn, "SELECT * FROM tld", ())
        self._tlds = {row["name"]: _tld(row) for row in rows}
        self._info = ReplicaInfo(generation, parse_time(meta.get(META_WATERMARK)) or _EPOCH)
        return True

    async def tlds(self) -> dict[str, Tld]:
        """The TLDs this replica serves, by A-label."""
        return self._tlds

    async def domain(self, ldh: str) -> DomainRecord | None:
        """A domain by lower-case A-label, with everything it references."""
        async with self._snapshot() as conn:
            row = await _one(conn, "SELECT * FROM domain WHERE name = ?", (ldh,))
            if row is None:
                return None
            contact_rows = await _all(
                conn, "SELECT role, contact FROM domain_contact WHERE domain = ?", (ldh,)
            )
            ns_rows = await _all(
                conn, "SELECT host, addrs FROM domain_ns WHERE domain = ? ORDER BY pos", (ldh,)
            )
            ds_rows = await _all(conn, "SELECT * FROM domain_ds WHERE domain = ?", (ldh,))
            roles: list[tuple[ContactRole, str]] = []
            if row["registrant"]:
                roles.append((ContactRole.REGISTRANT, row["registrant"]))
            order = list(ContactRole)
            for crow in sorted(contact_rows, key=lambda r: (order.index(ContactRole(r[0])), r[1])):
                roles.append((ContactRole(crow[0]), crow[1]))
            contacts: list[tuple[ContactRole, Contact]] = []
            cache: dict[str, Contact | None] = {}
            for role, handle in roles:
                if handle not in cache:
                    crow2 = await _one(conn, "SELECT * FROM contact WHERE id = ?", (handle,))
                    cache[handle] = _contact(crow2) if crow2 else None
                found = cache[handle]
                if found is not None:
                    contacts.append((role, found))
            hosts = [await _host_for_domain(conn, r["host"], r["addrs"]) for r in ns_rows]
            rr = await _one(conn, "SELECT * FROM registrar WHERE id = ?", (row["registrar"],))
        domain = _domain(row, roles, tuple(r["host"] for r in ns_rows), ds_rows)
        tld = self._tlds.get(domain.tld)
        if tld is None or rr is None:
            # A domain whose TLD or sponsor is missing is an import defect; never half-render.
            raise ReplicaError()
        return DomainRecord(
            domain=domain,
            tld=tld,
            registrar=_registrar(rr),
            contacts=tuple(contacts),
            hosts=tuple(h for h in hosts if h is not None),
            info=self._info,
        )

    async def host(self, ldh: str) -> HostRecord | None:
        """A host object by lower-case A-label."""
        async with self._snapshot() as conn:
            host = await _host_object(conn, ldh)
            if host is None:
                return None
            rr = await _one(conn, "SELECT * FROM registrar WHERE id = ?", (host.registrar,))
        return HostRecord(host=host, registrar=_registrar(rr) if rr else None, info=self._info)

    async def hosts_by_ip(self, ip: str, limit: int = 50) -> list[HostRecord]:
        """Host objects with this address (canonical form), at most `limit`."""
        canonical = str(ipaddress.ip_address(ip))
        async with self._snapshot() as conn:
            names = await _all(
                conn,
                "SELECT host FROM host_addr WHERE ip = ? ORDER BY host LIMIT ?",
                (canonical, limit),
            )
            out: list[HostRecord] = []
            for (name,) in names:
                host = await _host_object(conn, name)
                if host is None:
                    continue
                rr = await _one(conn, "SELECT * FROM registrar WHERE id = ?", (host.registrar,))
                out.append(
                    HostRecord(host=host, registrar=_registrar(rr) if rr else None, info=self._info)
                )
        return out

    async def registrar_by_iana(self, iana_id: int) -> RegistrarRecord | None:
        """A registrar by IANA Registrar ID."""
        async with self._snapshot() as conn:
            row = await _one(conn, "SELECT * FROM registrar WHERE iana_id = ?", (iana_id,))
        return RegistrarRecord(_registrar(row), self._info) if row else None

    async def registrar_by_id(self, rid: str) -> RegistrarRecord | None:
        """A registrar by its registry id (clID), ignoring ASCII case: the exact id wins, else
        the one id that differs only in case (two such ids: none)."""
        async with self._snapshot() as conn:
            # Index registrar_id_nocase (replica/schema.py) serves this; no scan.
            rows = await _all(
                conn, "SELECT * FROM registrar WHERE id = ? COLLATE NOCASE LIMIT 10", (rid,)
            )
        exact = [r for r in rows if r["id"] == rid]
        row = exact[0] if exact else rows[0] if len(rows) == 1 else None
        return RegistrarRecord(_registrar(row), self._info) if row else None

    async def registrars_by_name(self, name: str) -> list[RegistrarRecord]:
        """Registrars whose name matches exactly, ignoring case."""
        async with self._snapshot() as conn:
            rows = await _all(
                conn,
                "SELECT * FROM registrar WHERE name = ? COLLATE NOCASE ORDER BY id LIMIT 10",
                (name,),
            )
        return [RegistrarRecord(_registrar(r), self._info) for r in rows]

    async def contact(
        self, handle: str, reference_cap: int = REFERENCE_CAP
    ) -> ContactRecord | None:
        """A contact by handle (ignoring case), with the contexts of the domains that
        reference it (at most `reference_cap` of them per kind of reference are read; beyond,
        `complete` is False)."""
        async with self._snapshot() as conn:
            row = await _one(conn, CONTACT_SQL, (fold(handle),))
            if row is None:
                return None
            refs = await _all(conn, REFERENCES_SQL, (row["id"], reference_cap + 1))
        contexts = reference_contexts(
            [tuple(r)[1:] for r in refs if r["tld"] is not None], self._tlds
        )
        complete = max(r["n"] for r in refs) <= reference_cap
        return ContactRecord(
            _contact(row),
            self._info,
            References(frozenset(contexts) if complete else frozenset(), complete),
            registrar_url=row["registrar_url"],
        )


# --- row decoding ------------------------------------------------------------------------


async def _one(conn: aiosqlite.Connection, sql: str, args: tuple[Any, ...]) -> sqlite3.Row | None:
    conn.row_factory = sqlite3.Row
    async with conn.execute(sql, args) as cur:
        row: sqlite3.Row | None = await cur.fetchone()
        return row


async def _all(conn: aiosqlite.Connection, sql: str, args: tuple[Any, ...]) -> list[sqlite3.Row]:
    conn.row_factory = sqlite3.Row
    async with conn.execute(sql, args) as cur:
        return list(await cur.fetchall())


async def _host_object(conn: aiosqlite.Connection, name: str) -> Host | None:
    row = await _one(conn, "SELECT * FROM host WHERE name = ?", (name,))
    if row is None:
        return None
    addrs = await _all(
        conn, "SELECT ip, version FROM host_addr WHERE host = ? ORDER BY version, ip", (name,)
    )
    return Host(
        name=row["name"],
        roid=row["roid"],
        statuses=split_words(row["statuses"]) or ("ok",),
        v4=tuple(a["ip"] for a in addrs if a["version"] == 4),
        v6=tuple(a["ip"] for a in addrs if a["version"] == 6),
        registrar=row["registrar"],
        created=parse_time(row["created"]),
        updated=parse_time(row["updated"]),
    )


async def _host_for_domain(conn: aiosqlite.Connection, name: str, addrs: str | None) -> Host | None:
    if addrs is None:
        found = await _host_object(conn, name)
        # An external host object may be missing from a partial replica: show the name only.
        return found if found is not None else Host(name=name)
    ips = [ipaddress.ip_address(a) for a in json.loads(addrs)]
    return Host(
        name=name,
        v4=tuple(str(i) for i in ips if i.version == 4),
        v6=tuple(str(i) for i in ips if i.version == 6),
    )
