"""Read-only replica store on PostgreSQL (asyncpg): the same `Store` protocol as
`replica.store.SqliteStore`, for N stateless nodes sharing one database.

Each lookup is one round trip: one statement that joins what the answer needs and returns it
as JSON aggregates, run as its own read-only transaction (the pool's sessions default to
read-only, so no BEGIN/COMMIT round trips) and so reading one snapshot. asyncpg prepares each
statement once per connection and reuses it (its statement cache). The pool is bounded.
The row decoders are SQLite's (`replica.store`): the tables and encodings are the same
(`replica.pg_schema`), so both stores give the same answers byte for byte.

A new generation is learnt by LISTEN on `pg_schema.CHANNEL` (`rdds import` notifies on
commit) and by polling `refresh()` as a fallback: notifications do not cross to a streaming
standby (and a standby refuses LISTEN), so a node reading a standby learns by polling only,
and `refresh()` also reads how far the standby's replay trails (docs/scale-out.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, cast

import asyncpg
import orjson

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
from replica import pg_schema
from replica.answers import AnswerKind, AnswerMeta
from replica.schema import (
    META_GENERATION,
    META_SCHEMA,
    META_WATERMARK,
    SCHEMA_VERSION,
    fold,
    parse_time,
    split_words,
)
from replica.store import (
    _EPOCH,
    REFERENCE_CAP,
    DomainKey,
    _contact,
    _domain,
    _registrar,
    _tld,
    reference_contexts,
)

log = logging.getLogger("rdds.replica")

#: Seconds a lookup may wait for a pooled connection or the server before it fails (503).
TIMEOUT = 5.0

#: What a lookup can meet when the server is down, restarting or refusing (a connection
#: the server shut down under the pool can also report a client protocol state error).
DB_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
    TimeoutError,
)

#: Opening can also meet a malformed URL (ValueError).
_OPEN_ERRORS: tuple[type[BaseException], ...] = (*DB_ERRORS, ValueError)

#: The metadata and TLDs, and whether the server is a standby with its replay lag: 0 when it
#: has replayed all the WAL it received (an idle primary sends none, so an idle standby is
#: not "behind"), else the seconds since the last transaction it replayed was committed on
#: the primary (clocks in sync; NULL on a primary). A standby cut off from its primary has
#: replayed all it received and reads 0: that staleness shows in the watermark's age only.
REFRESH_SQL = """
SELECT (SELECT json_object_agg(key, value) FROM meta WHERE key = ANY($1::text[])) AS meta,
       (SELECT coalesce(json_agg(row_to_json(t)), '[]') FROM tld AS t) AS tlds,
       pg_is_in_recovery() AS standby,
       CASE WHEN NOT pg_is_in_recovery() THEN NULL
            WHEN coalesce(pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn(), true) THEN 0.0
            ELSE greatest(0.0, extract(epoch FROM now() - coalesce(
                     pg_last_xact_replay_timestamp(), pg_postmaster_start_time())))::float8
       END AS lag
"""

_HOST_JSON = """json_build_object(
    'row', row_to_json(h),
    'addrs', (SELECT coalesce(json_agg(json_build_object('ip', a.ip, 'version', a.version)
                                       ORDER BY a.version, a.ip), '[]')
              FROM host_addr AS a WHERE a.host = h.name))"""

DOMAIN_SQL = f"""
SELECT row_to_json(d) AS domain,
  (SELECT row_to_json(g) FROM registrar AS g WHERE g.id = d.registrar) AS registrar,
  (SELECT coalesce(json_agg(json_build_array(dc.role, dc.contact)), '[]')
     FROM domain_contact AS dc WHERE dc.domain = d.name) AS roles,
  (SELECT coalesce(json_object_agg(c.id, row_to_json(c)), '{{}}') FROM contact AS c
     WHERE c.id IN (SELECT d.registrant
                    UNION SELECT contact FROM domain_contact WHERE domain = d.name)) AS contacts,
  (SELECT coalesce(json_agg(json_build_object(
            'host', n.host, 'addrs', n.addrs,
            'object', (SELECT {_HOST_JSON} FROM host AS h WHERE h.name = n.host))
          ORDER BY n.pos, n.host), '[]')
     FROM domain_ns AS n WHERE n.domain = d.name) AS ns,
  (SELECT coalesce(json_agg(row_to_json(s)
                            ORDER BY s.key_tag, s.algorithm, s.digest_type, s.digest), '[]')
     FROM domain_ds AS s WHERE s.domain = d.name) AS ds
FROM domain AS d WHERE d.name = $1
"""

HOST_SQL = f"""
SELECT {_HOST_JSON} AS host,
  (SELECT row_to_json(g) FROM registrar AS g WHERE g.id = h.registrar) AS registrar
FROM host AS h WHERE h.name = $1
"""

HOSTS_BY_IP_SQL = f"""
SELECT {_HOST_JSON} AS host,
  (SELECT row_to_json(g) FROM registrar AS g WHERE g.id = h.registrar) AS registrar
FROM (SELECT host FROM host_addr WHERE ip = $1 ORDER BY host LIMIT $2) AS x
JOIN host AS h ON h.name = x.host
ORDER BY x.host
"""

REGISTRAR_BY_IANA_SQL = "SELECT row_to_json(g) AS r FROM registrar AS g WHERE iana_id = $1"

#: As SQLite's `id = ? COLLATE NOCASE` (ASCII-only folding), through registrar_id_nocase.
REGISTRAR_BY_ID_SQL = (
    "SELECT row_to_json(g) AS r FROM registrar AS g "
    "WHERE rdds_nocase(id) = rdds_nocase($1) LIMIT 10"
)

REGISTRARS_BY_NAME_SQL = (
    "SELECT row_to_json(g) AS r FROM registrar AS g "
    "WHERE rdds_nocase(name) = rdds_nocase($1) ORDER BY id LIMIT 10"
)

#: The contact by folded handle, its registrar's URL, and (as in `replica.store`) the larger
#: of its two capped reference counts and, within the cap only, the distinct contexts of the
#: referencing domains.
CONTACT_SQL = """
WITH c AS (
    SELECT c.*, g.url AS registrar_url FROM contact AS c
    LEFT JOIN registrar AS g ON g.id = c.registrar WHERE c.handle_key = $1
), counted AS (
    SELECT greatest(
        (SELECT count(*) FROM (SELECT 1 FROM domain, c WHERE domain.registrant = c.id
                               LIMIT $2) AS x),
        (SELECT count(*) FROM (SELECT 1 FROM domain_contact, c
                               WHERE domain_contact.contact = c.id LIMIT $2) AS y)
    ) AS n
), ref AS (
    (SELECT domain.name AS domain, 0 AS side FROM domain, c
     WHERE domain.registrant = c.id LIMIT $2)
    UNION ALL
    (SELECT dc.domain, CASE WHEN dc.role IN ('administrative', 'billing') THEN 1 ELSE 0 END
     FROM domain_contact AS dc, c WHERE dc.contact = c.id LIMIT $2)
)
SELECT row_to_json(c) AS contact, counted.n,
  (SELECT coalesce(json_agg(json_build_array(x.tld, x.statuses, x.at_risk, x.domain, x.side)),
                   '[]') FROM (
      SELECT DISTINCT d.tld, d.statuses, coalesce(r.at_risk, 0) AS at_risk, ref.domain,
                      ref.side
      FROM ref JOIN domain AS d ON d.name = ref.domain
      LEFT JOIN contact AS r ON r.id = d.registrant
      WHERE counted.n < $2) AS x) AS refs
FROM c, counted
"""


#: The search queries (core.searcher), as `replica.store.SEARCH_SQL` for SQLite, each served
#: by an index of `pg_schema.DDL`; ranges compare in "C" order, as SQLite's BINARY does.
_KEY = "d.name, d.uname, d.created, d.expires, d.updated"
_UNAME = 'd.uname COLLATE "C"'
SEARCH_SQL: dict[str, str] = {
    "domain.name": f"SELECT {_KEY} FROM domain AS d WHERE d.name >= $1 AND d.name < $2 "
    "ORDER BY d.name LIMIT $3",
    "domain.name.open": f"SELECT {_KEY} FROM domain AS d WHERE d.name >= $1 "
    "ORDER BY d.name LIMIT $2",
    "domain.tld.name": f"SELECT {_KEY} FROM domain AS d WHERE d.tld = $4 AND d.name >= $1 "
    "AND d.name < $2 ORDER BY d.name LIMIT $3",
    "domain.tld.name.open": f"SELECT {_KEY} FROM domain AS d WHERE d.tld = $3 "
    "AND d.name >= $1 ORDER BY d.name LIMIT $2",
    "domain.uname": f"SELECT {_KEY} FROM domain AS d WHERE d.uname IS NOT NULL AND "
    f"{_UNAME} >= $1 AND {_UNAME} < $2 ORDER BY {_UNAME} LIMIT $3",
    "domain.uname.open": f"SELECT {_KEY} FROM domain AS d WHERE d.uname IS NOT NULL AND "
    f"{_UNAME} >= $1 ORDER BY {_UNAME} LIMIT $2",
    "domain.tld.uname": f"SELECT {_KEY} FROM domain AS d WHERE d.uname IS NOT NULL AND "
    f"d.tld = $4 AND {_UNAME} >= $1 AND {_UNAME} < $2 ORDER BY {_UNAME} LIMIT $3",
    "domain.tld.uname.open": f"SELECT {_KEY} FROM domain AS d WHERE d.uname IS NOT NULL AND "
    f"d.tld = $3 AND {_UNAME} >= $1 ORDER BY {_UNAME} LIMIT $2",
    "domain.exact": f"SELECT {_KEY} FROM domain AS d WHERE d.name = ANY($1::text[])",
    "domain.host": f"SELECT {_KEY} FROM domain_ns AS n JOIN domain AS d ON d.name = n.domain "
    "WHERE n.host = $1 ORDER BY n.domain LIMIT $2",
    "domain.registrant": f"SELECT {_KEY} FROM domain AS d WHERE d.registrant = $1 LIMIT $2",
    "domain.contact": f"SELECT {_KEY} FROM domain_contact AS c JOIN domain AS d "
    "ON d.name = c.domain WHERE c.contact = $1 LIMIT $2",
    "domain.contact.role": f"SELECT {_KEY} FROM domain_contact AS c JOIN domain AS d "
    "ON d.name = c.domain WHERE c.contact = $1 AND c.role = $3 LIMIT $2",
    "host.name": "SELECT name FROM host WHERE name >= $1 AND name < $2 ORDER BY name LIMIT $3",
    "host.name.open": "SELECT name FROM host WHERE name >= $1 ORDER BY name LIMIT $2",
    "host.rname": "SELECT name FROM host WHERE rname >= $1 AND rname < $2 ORDER BY rname LIMIT $3",
    "host.rname.open": "SELECT name FROM host WHERE rname >= $1 ORDER BY rname LIMIT $2",
    "host.ip": "SELECT host FROM host_addr WHERE ip = $1 ORDER BY host LIMIT $2",
    "registrars": "SELECT row_to_json(g) AS r FROM registrar AS g ORDER BY id",
}
for _prop, _column, _tie in (
    ("fn", "fn_key", True),
    ("email", "email_key", True),
    ("addr", "addr_key", True),
    ("handle", "handle_key", False),
):
    SEARCH_SQL[f"contact.{_prop}"] = (
        f"SELECT handle_key FROM contact WHERE {_column} >= $1 "
        f"ORDER BY {_column}{', id' if _tie else ''} LIMIT $2"
    )
    SEARCH_SQL[f"contact.{_prop}.before"] = (
        f"SELECT handle_key FROM contact WHERE {_column} < $1 "
        f"ORDER BY {_column} DESC{', id DESC' if _tie else ''} LIMIT $2"
    )


def is_url(replica: object) -> bool:
    """True when `replica` names a PostgreSQL database rather than a SQLite file."""
    return isinstance(replica, str) and replica.startswith(("postgresql://", "postgres://"))


#: Query parameters of a connection URL that hold secrets (libpq's names).
_SECRET_PARAMS = frozenset({"password", "sslpassword"})


def redact_url(url: str) -> str:
    """The URL without a password (in the user part or the query string), for messages and
    logs."""
    scheme, sep, rest = url.partition("://")
    rest, qmark, query = rest.partition("?")
    if qmark:
        kept = [p for p in query.split("&") if p.split("=", 1)[0].lower() not in _SECRET_PARAMS]
        query = "&".join(kept)
        qmark = "?" if query else ""
    creds, at, host = rest.rpartition("@")
    if at:
        rest = f"{creds.split(':', 1)[0]}@{host}"
    return f"{scheme}{sep}{rest}{qmark}{query}"


async def _init(conn: Any) -> None:
    await conn.set_type_codec(
        "json",
        encoder=lambda v: orjson.dumps(v).decode(),
        decoder=orjson.loads,
        schema="pg_catalog",
    )


async def check_schema(conn: Any, where: str) -> None:
    """Raise ReplicaError with one line unless the database holds an rdds replica this rdds
    reads (same rules as `replica.store.check_readable`)."""
    try:
        value = await conn.fetchval("SELECT value FROM meta WHERE key = $1", META_SCHEMA)
    except asyncpg.UndefinedTableError:
        raise ReplicaError(
            f"replica {where}: not an rdds replica (no meta table; run rdds db init)"
        ) from None
    if value is None:
        raise ReplicaError(f"replica {where}: not an rdds replica (no schema version)")
    version = int(value) if str(value).isdigit() else 0
    if version != SCHEMA_VERSION:
        older = version < SCHEMA_VERSION
        raise ReplicaError(
            f"replica {where}: written by a {'n older' if older else ' newer'} rdds "
            f"(schema {version}, this one reads {SCHEMA_VERSION}); "
            + ("run rdds db init to upgrade it" if older else "upgrade rdds")
        )


class PostgresStore:
    """The replica in PostgreSQL, read through a bounded asyncpg pool."""

    def __init__(self, url: str, pool_size: int = 4, *, listen: bool = True) -> None:
        self.url = url
        self._where = redact_url(url)
        self._pool_size = pool_size
        self._listen = listen
        self._pool: Any = None
        self._listener: Any = None
        self._info = ReplicaInfo(0, _EPOCH)
        self._tlds: dict[str, Tld] = {}
        self._notified: list[Callable[[], None]] = []
        self._standby = False
        self._lag: float | None = None

    @property
    def info(self) -> ReplicaInfo:
        """The generation and watermark last seen by `refresh`."""
        return self._info

    @property
    def replication_lag(self) -> float | None:
        """Seconds the standby's replay trailed the WAL it had received, at the last
        `refresh` (see REFRESH_SQL); None when the database is a primary."""
        return self._lag

    def on_notify(self, callback: Callable[[], None]) -> None:
        """Call `callback()` whenever an importer announces a new generation (LISTEN)."""
        self._notified.append(callback)

    async def open(self) -> None:
        """Open the pool (read-only sessions), check the schema, read the metadata."""
        try:
            self._pool = await asyncpg.create_pool(
                self.url,
                min_size=1,
                max_size=self._pool_size,
                init=_init,
                command_timeout=TIMEOUT,
                timeout=TIMEOUT,
                server_settings={
                    "default_transaction_read_only": "on",
                    "application_name": "rdds",
                },
            )
            async with self._pool.acquire(timeout=TIMEOUT) as conn:
                await check_schema(conn, self._where)
        except ReplicaError:
            raise
        except _OPEN_ERRORS as exc:
            raise ReplicaError(f"replica {self._where}: cannot connect ({_reason(exc)})") from None
        await self.refresh()

    async def close(self) -> None:
        """Close the listener and the pool."""
        await self._drop_listener()
        if self._pool is not None:
            pool, self._pool = self._pool, None
            with contextlib.suppress(*DB_ERRORS):
                await asyncio.wait_for(pool.close(), TIMEOUT)

    async def _drop_listener(self) -> None:
        conn, self._listener = self._listener, None
        if conn is not None:
            with contextlib.suppress(*DB_ERRORS):
                await asyncio.wait_for(conn.close(), TIMEOUT)

    async def _ensure_listener(self) -> None:
        """(Re)establish LISTEN after a start or an outage; polling covers the gap."""
        if not self._listen or (self._listener is not None and not self._listener.is_closed()):
            return
        await self._drop_listener()
        try:
            conn = await asyncpg.connect(self.url, timeout=TIMEOUT)
        except DB_ERRORS:
            return
        try:
            await conn.add_listener(pg_schema.CHANNEL, self._heard)
        except DB_ERRORS:
            with contextlib.suppress(*DB_ERRORS):  # never leave the connection open
                await asyncio.wait_for(conn.close(), TIMEOUT)
            return
        self._listener = conn

    def _heard(self, *_args: object) -> None:
        for callback in self._notified:
            callback()

    @contextlib.asynccontextmanager
    async def _conn(self) -> AsyncIterator[Any]:
        if self._pool is None:
            raise ReplicaError()
        try:
            async with self._pool.acquire(timeout=TIMEOUT) as conn:
                yield conn
        except DB_ERRORS as exc:
            log.warning("replica query failed: %s", type(exc).__name__)
            raise ReplicaError() from exc

    async def _row(self, sql: str, *args: Any) -> Any:
        async with self._conn() as conn:
            return await conn.fetchrow(sql, *args)

    async def _rows(self, sql: str, *args: Any) -> list[Any]:
        async with self._conn() as conn:
            return cast(list[Any], await conn.fetch(sql, *args))

    async def refresh(self) -> bool:
        """Re-read generation, watermark and TLDs (one round trip); True when the generation
        changed. On a standby, no LISTEN (refused during recovery): polling only."""
        if not self._standby:
            await self._ensure_listener()  # before the read: no notification falls between
        row = await self._row(REFRESH_SQL, [META_GENERATION, META_WATERMARK])
        self._standby, self._lag = bool(row["standby"]), row["lag"]
        if self._standby:
            await self._drop_listener()
        meta: dict[str, str] = row["meta"] or {}
        generation = int(meta.get(META_GENERATION, "0"))
        if generation == self._info.generation and self._tlds:
            return False
        self._tlds = {t["name"]: _tld(t) for t in row["tlds"]}
        self._info = ReplicaInfo(generation, parse_time(meta.get(META_WATERMARK)) or _EPOCH)
        return True

    async def tlds(self) -> dict[str, Tld]:
        """The TLDs this replica serves, by A-label."""
        return self._tlds

    @property
    def served(self) -> dict[str, Tld]:
        """`tlds` as of the last `refresh`, from synchronous code."""
        return self._tlds

    async def domain(self, ldh: str) -> DomainRecord | None:
        """A domain by lower-case A-label, with everything it references (one statement)."""
        row = await self._row(DOMAIN_SQL, ldh)
        if row is None:
            return None
        drow = row["domain"]
        roles: list[tuple[ContactRole, str]] = []
        if drow["registrant"]:
            roles.append((ContactRole.REGISTRANT, drow["registrant"]))
        order = list(ContactRole)
        for role, handle in sorted(
            row["roles"], key=lambda r: (order.index(ContactRole(r[0])), r[1])
        ):
            roles.append((ContactRole(role), handle))
        found: dict[str, Contact] = {h: _contact(cast(Any, c)) for h, c in row["contacts"].items()}
        contacts = tuple((role, found[h]) for role, h in roles if h in found)
        hosts = tuple(_ns_host(n) for n in row["ns"])
        domain = _domain(
            cast(Any, drow), roles, tuple(n["host"] for n in row["ns"]), cast(Any, row["ds"])
        )
        tld = self._tlds.get(domain.tld)
        rr = row["registrar"]
        if tld is None or rr is None:
            raise ReplicaError()  # an import defect; never half-render
        return DomainRecord(
            domain=domain,
            tld=tld,
            registrar=_registrar(cast(Any, rr)),
            contacts=contacts,
            hosts=hosts,
            info=self._info,
        )

    async def host(self, ldh: str) -> HostRecord | None:
        """A host object by lower-case A-label."""
        row = await self._row(HOST_SQL, ldh)
        return None if row is None else self._host_record(row)

    def _host_record(self, row: Any) -> HostRecord:
        rr = row["registrar"]
        return HostRecord(
            host=_host(row["host"]),
            registrar=_registrar(cast(Any, rr)) if rr else None,
            info=self._info,
        )

    async def hosts_by_ip(self, ip: str, limit: int = 50) -> list[HostRecord]:
        """Host objects with this address (canonical form), at most `limit`."""
        canonical = str(ipaddress.ip_address(ip))
        return [self._host_record(r) for r in await self._rows(HOSTS_BY_IP_SQL, canonical, limit)]

    async def registrar_by_iana(self, iana_id: int) -> RegistrarRecord | None:
        """A registrar by IANA Registrar ID."""
        if not -(2**63) <= iana_id < 2**63:
            return None  # beyond BIGINT: no such registrar (SQLite answers the same)
        row = await self._row(REGISTRAR_BY_IANA_SQL, iana_id)
        return RegistrarRecord(_registrar(cast(Any, row["r"])), self._info) if row else None

    async def registrar_by_id(self, rid: str) -> RegistrarRecord | None:
        """A registrar by its registry id, ignoring ASCII case: the exact id wins, else the
        one id that differs only in case."""
        rows = [r["r"] for r in await self._rows(REGISTRAR_BY_ID_SQL, rid)]
        exact = [r for r in rows if r["id"] == rid]
        row = exact[0] if exact else rows[0] if len(rows) == 1 else None
        return RegistrarRecord(_registrar(cast(Any, row)), self._info) if row else None

    async def registrars_by_name(self, name: str) -> list[RegistrarRecord]:
        """Registrars whose name matches exactly, ignoring ASCII case."""
        rows = await self._rows(REGISTRARS_BY_NAME_SQL, name)
        return [RegistrarRecord(_registrar(cast(Any, r["r"])), self._info) for r in rows]

    async def contact(
        self, handle: str, reference_cap: int = REFERENCE_CAP
    ) -> ContactRecord | None:
        """A contact by handle (ignoring case), with the contexts of the domains that
        reference it (see `SqliteStore.contact`)."""
        row = await self._row(CONTACT_SQL, fold(handle), reference_cap + 1)
        if row is None:
            return None
        contexts = reference_contexts(row["refs"], self._tlds)
        complete = row["n"] <= reference_cap
        crow = row["contact"]
        return ContactRecord(
            _contact(cast(Any, crow)),
            self._info,
            References(frozenset(contexts) if complete else frozenset(), complete),
            registrar_url=crow["registrar_url"],
        )

    # --- searches (core.searcher; see SqliteStore for what each returns) -------------------

    async def domain_keys_by_name(
        self, low: str, high: str | None, *, tld: str | None, unicode: bool, limit: int
    ) -> list[DomainKey]:
        """Domains whose name (or U-label form) is in [low, high), under `tld` if given."""
        name = "domain" + (".tld" if tld is not None else "") + (".uname" if unicode else ".name")
        args: list[Any] = [low] + ([high] if high is not None else []) + [limit]
        if tld is not None:
            args.append(tld)
        sql = SEARCH_SQL[name + ("" if high is not None else ".open")]
        return [_key(r) for r in await self._rows(sql, *args)]

    async def domain_keys_exact(self, names: Sequence[str]) -> list[DomainKey]:
        """The domains of these exact names that exist, in the order given."""
        found = {r["name"]: _key(r) for r in await self._rows(SEARCH_SQL["domain.exact"], names)}
        return [found[n] for n in names if n in found]

    async def domain_keys_by_hosts(self, hosts: Sequence[str], limit: int) -> list[DomainKey]:
        """Domains delegated to any of these nameservers, merged in name order, cut."""
        found: dict[str, DomainKey] = {}
        for host in hosts:
            for row in await self._rows(SEARCH_SQL["domain.host"], host, limit):
                found.setdefault(row["name"], _key(row))
        return [found[n] for n in sorted(found)][:limit]

    async def domain_keys_by_contacts(
        self, handles: Sequence[str], role: ContactRole | None, limit: int
    ) -> list[DomainKey]:
        """Domains referencing any of these contacts (in `role`, or any), in name order."""
        found: dict[str, DomainKey] = {}
        for handle in handles:
            rows: list[Any] = []
            if role in (None, ContactRole.REGISTRANT):
                rows += await self._rows(SEARCH_SQL["domain.registrant"], handle, limit)
            if role is None:
                rows += await self._rows(SEARCH_SQL["domain.contact"], handle, limit)
            elif role is not ContactRole.REGISTRANT:
                rows += await self._rows(
                    SEARCH_SQL["domain.contact.role"], handle, limit, role.value
                )
            for row in rows:
                found.setdefault(row["name"], _key(row))
        return [found[n] for n in sorted(found)][:limit]

    async def host_names(
        self, low: str, high: str | None, *, reverse: bool, limit: int
    ) -> list[str]:
        """Host object names in [low, high) (with `reverse`, of their reversed labels)."""
        sql = SEARCH_SQL[("host.rname" if reverse else "host.name") + ("" if high else ".open")]
        args: list[Any] = [low] + ([high] if high else []) + [limit]
        return [r[0] for r in await self._rows(sql, *args)]

    async def host_names_by_ip(self, ip: str, limit: int) -> list[str]:
        """Host object names with this address, in name order."""
        canonical = str(ipaddress.ip_address(ip))
        return [r[0] for r in await self._rows(SEARCH_SQL["host.ip"], canonical, limit)]

    async def domains(self, names: Sequence[str]) -> list[DomainRecord]:
        """Full domain records, in the order given (absent ones skipped)."""
        out: list[DomainRecord] = []
        for name in names:
            record = await self.domain(name)
            if record is not None:
                out.append(record)
        return out

    async def hosts(self, names: Sequence[str]) -> list[HostRecord]:
        """Host objects, in the order given (absent ones skipped)."""
        out: list[HostRecord] = []
        for name in names:
            record = await self.host(name)
            if record is not None:
                out.append(record)
        return out

    async def contacts_window(
        self, prop: str, start: str, window: int, reference_cap: int = REFERENCE_CAP
    ) -> list[ContactRecord]:
        """`window` contacts around `start` in the index of `prop` (as SqliteStore's)."""
        keys = [r[0] for r in await self._rows(SEARCH_SQL[f"contact.{prop}"], start, window)]
        if len(keys) < window:
            keys += [
                r[0]
                for r in await self._rows(
                    SEARCH_SQL[f"contact.{prop}.before"], start, window - len(keys)
                )
            ]
        out: list[ContactRecord] = []
        for key in keys:
            record = await self.contact(key, reference_cap)
            if record is not None:
                out.append(record)
        return out

    async def registrars(self) -> list[RegistrarRecord]:
        """Every registrar."""
        rows = await self._rows(SEARCH_SQL["registrars"])
        return [RegistrarRecord(_registrar(cast(Any, r["r"])), self._info) for r in rows]

    # --- precomputed answers: SQLite replicas only (docs/performance.md) -------------------

    @property
    def answers(self) -> AnswerMeta | None:
        """None: a PostgreSQL replica holds no precomputed answers; every lookup renders."""
        return None

    async def answer(self, ldh: str, kind: AnswerKind) -> bytes | None:
        """None (see `answers`)."""
        return None

    def answer_soon(self, ldh: str, kind: AnswerKind) -> asyncio.Future[bytes | None] | None:
        """None (see `answers`)."""
        return None


def _key(row: Any) -> DomainKey:
    return DomainKey(row["name"], row["uname"], row["created"], row["expires"], row["updated"])


def _host(obj: dict[str, Any]) -> Host:
    row, addrs = obj["row"], obj["addrs"]
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


def _ns_host(ns: dict[str, Any]) -> Host:
    if ns["addrs"] is None:
        # An external host object may be missing from a partial replica: the name only.
        return _host(ns["object"]) if ns["object"] is not None else Host(name=ns["host"])
    ips = [ipaddress.ip_address(a) for a in orjson.loads(ns["addrs"])]
    return Host(
        name=ns["host"],
        v4=tuple(str(i) for i in ips if i.version == 4),
        v6=tuple(str(i) for i in ips if i.version == 6),
    )


def _reason(exc: BaseException) -> str:
    # Driver messages name hosts and roles, never row data; the first line only.
    text = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
    return text


async def open_store(url: str, pool_size: int = 4, *, listen: bool = True) -> PostgresStore:
    """Open a read-only store on the PostgreSQL replica at `url`."""
    store = PostgresStore(url, pool_size, listen=listen)
    try:
        await store.open()
    except BaseException:
        await store.close()
        raise
    return store
