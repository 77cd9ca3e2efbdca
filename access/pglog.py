"""The disclosure log in PostgreSQL: one hash chain for every node (I/O; the record format and
the chain are `access.chain`'s, so each row holds byte for byte the line the file log would).

Tables (`replica.pg_schema.ACCESS_DDL`): `disclosure(seq, record)`, one row per record, and
`disclosure_head`, one row holding the count and the newest record's hash (the file log's
anchor), written with the genesis values by `rdds db init`. An append is one transaction on
the primary:

1. `SELECT ... FROM disclosure_head FOR UPDATE`: appends from every node queue on this one row
   lock, so the chain never forks (a session with synchronous commit off gets it on, for this
   transaction: the commit must be durable before the answer leaves);
2. one statement inserts record count+1 (`prev` = the head), advances the head, and reads the
   newest record and the highest seq as they were: unless the head vouches for them the
   transaction rolls back (a deleted, truncated or edited log is never continued);
3. COMMIT. Only then does `append` return; anything else is Unavailable (503, fail closed).

Record and head commit together, so unlike the file log no record can be past the head: the
verifier allows none (`max_beyond=0`). Truncating the newest records leaves the head counting
more than the log holds; deleting the head row is evidence too (it is never re-created).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import asyncpg

from access import chain
from access.pgdb import DB_ERRORS, LOST, TIMEOUT, missing_tables, reason, rows_in_thread
from registry.errors import RddsError, Unavailable

log = logging.getLogger("rdds.access")

T = TypeVar("T")

HEAD_SQL = """
SELECT count, head,
       CASE WHEN current_setting('synchronous_commit') = 'off'
            THEN set_config('synchronous_commit', 'on', true) END AS durable
FROM disclosure_head FOR UPDATE
"""

#: The main query reads the snapshot before the insert (a data-modifying CTE's rows are not
#: visible to it): the newest record the head vouches for, and the highest seq.
APPEND_SQL = """
WITH ins AS (INSERT INTO disclosure(seq, record) VALUES ($1, $2)),
     up AS (UPDATE disclosure_head SET count = $1, head = $3)
SELECT (SELECT record FROM disclosure WHERE seq = $1 - 1) AS last,
       (SELECT max(seq) FROM disclosure) AS top
"""

READ_HEAD_SQL = "SELECT count, head FROM disclosure_head"
PAGE_SQL = "SELECT seq, record FROM disclosure WHERE seq > $1 ORDER BY seq LIMIT $2"
PAGE = 5_000

NO_HEAD = (
    "the log's head row (disclosure_head) is missing: it was deleted, or this log was not "
    "started by rdds db init"
)


class BrokenLog(Exception):
    """The log in the database cannot be continued (its head does not vouch for its tail)."""


class _Retry(Exception):
    """The connection was lost before anything was written: one more try is safe."""


def check_tail(count: int, head: str, last: str | None, top: int | None) -> None:
    """BrokenLog unless record `count` is the newest and hashes to `head`. Pure."""
    if (top or 0) != count:
        raise BrokenLog(f"the log's newest record is {top or 0}, its head counts {count}")
    if count == 0:
        if head != chain.GENESIS:
            raise BrokenLog("the head counts no record but is not the genesis hash")
        return
    record = None if last is None else chain.parse_line(last.encode("utf-8"))
    if record is None or record["seq"] != count or chain.record_hash(record) != record["hash"]:
        raise BrokenLog(f"record {count} is missing or not a valid record")
    if record["hash"] != head:
        raise BrokenLog(f"record {count} does not match the head")


class PgDisclosureLog:
    """Appends disclosure records to the shared log; each is committed before `append`
    returns."""

    def __init__(
        self,
        pool: Any,
        where: str,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._pool = pool
        self._where = where
        self._clock = clock

    def stamp(self) -> dt.datetime:
        """The time for a new record (UTC)."""
        return self._clock()

    async def append(self, disclosure: chain.Disclosure) -> dict[str, Any]:
        """Chain and commit one record; Unavailable when it cannot be committed.

        Security: fail closed. The caller sends nothing withheld unless this returns.
        """
        for attempt in (1, 2):
            try:
                return await self._append(disclosure)
            except _Retry as exc:
                if attempt == 1:
                    continue  # a restarted server: the pooled connection was stale
                cause = exc.__cause__ or exc
                log.error("disclosure log in %s: cannot write: %s", self._where, reason(cause))
            except BrokenLog as exc:
                log.error("disclosure log in %s cannot be continued: %s", self._where, exc)
            except asyncpg.UniqueViolationError:
                log.error(
                    "disclosure log in %s cannot be continued: a record beyond its head exists",
                    self._where,
                )
            except DB_ERRORS as exc:
                log.error("disclosure log in %s: cannot write: %s", self._where, reason(exc))
            break
        raise Unavailable("The disclosure log cannot be written; nothing was disclosed.")

    async def _append(self, disclosure: chain.Disclosure) -> dict[str, Any]:
        writing = False
        try:
            async with (
                self._pool.acquire(timeout=TIMEOUT) as conn,
                conn.transaction(isolation="read_committed"),
            ):
                row = await conn.fetchrow(HEAD_SQL)
                if row is None:
                    raise BrokenLog("its head row is missing (deleted?)")
                count, head = int(row["count"]), str(row["head"])
                record = chain.make_record(disclosure, count + 1, head)
                text = chain.line(record)[:-1].decode("ascii")
                writing = True
                tail = await conn.fetchrow(APPEND_SQL, count + 1, text, record["hash"])
                check_tail(count, head, tail["last"], tail["top"])  # raising rolls back
        except LOST as exc:
            if not writing:
                raise _Retry() from exc
            raise
        return record


# --- reading back (the audit commands) -------------------------------------------------------


async def head(conn: Any) -> chain.Anchor | None:
    """The head row as an anchor, or None when it is missing or not well formed."""
    row = await conn.fetchrow(READ_HEAD_SQL)
    if row is None or not chain.is_hash(str(row["head"])) or row["count"] < 0:
        return None
    return chain.Anchor(int(row["count"]), str(row["head"]))


async def _need_tables(conn: Any, where: str) -> None:
    if await missing_tables(conn):
        raise RddsError(f"{where}: no disclosure log in this database (run rdds db init)")


async def _paged(conn: Any, consume: Callable[[Iterator[Any]], T]) -> T:
    loop = asyncio.get_running_loop()

    async def page(after: int) -> Any:
        return await conn.fetch(PAGE_SQL, after, PAGE)

    return await asyncio.to_thread(consume, rows_in_thread(loop, page))


async def in_snapshot(conn: Any, where: str, consume: Callable[[Iterator[Any]], T]) -> T:
    """`consume(rows)` in a worker thread over every (seq, record) row in seq order, read
    page by page in one repeatable-read snapshot (running nodes may append meanwhile)."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        await _need_tables(conn, where)
        return await _paged(conn, consume)


def _lines(rows: Iterable[Any], off: list[int]) -> Iterator[bytes]:
    """The records' lines; `off` gets the first position whose key is not its position (in an
    intact log row N holds record N under key N)."""
    for n, (seq, record) in enumerate(rows, start=1):
        if seq != n and not off:
            off.append(n)
        yield str(record).encode("utf-8")  # non-ASCII is never canonical: it fails to parse


async def verify(conn: Any, where: str, expect_head: str | None = None) -> chain.Verdict:
    """Verify the shared log against its head row (and a head noted earlier), as
    `access.disclosures.verify` verifies a data directory."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        await _need_tables(conn, where)
        anchor = await head(conn)
        off: list[int] = []

        def check(rows: Iterator[Any]) -> chain.Verdict:
            lines = _lines(rows, off)
            if anchor is None:
                # Check the records anyway: a broken record is named first.
                loose = chain.verify(lines, chain.Anchor(0, chain.GENESIS), max_beyond=2**62)
                if not loose.ok:
                    return loose
                return chain.Verdict(loose.count, loose.head, chain.Problem(0, NO_HEAD))
            return chain.verify(lines, anchor, expect_head, max_beyond=0)

        verdict = await _paged(conn, check)
    if verdict.ok and off:
        what = f"row {off[0]}: its key is not its record's seq (renumbered)"
        return chain.Verdict(off[0] - 1, verdict.head, chain.Problem(off[0], what))
    return verdict


def records_of(rows: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """Every well-formed record of (seq, record) rows (verify first to trust them)."""
    for _, text in rows:
        record = chain.parse_line(str(text).encode("utf-8"))
        if record is not None:
            yield record


async def import_records(conn: Any, lines: list[bytes], verdict: chain.Verdict) -> str:
    """Copy a verified file log (its lines, in order) into an empty shared log, head and all,
    so the chain and any head noted earlier carry over. Returns what was done; RddsError when
    the shared log already holds other records."""
    async with conn.transaction(isolation="read_committed"):
        row = await conn.fetchrow(HEAD_SQL)
        if row is None:
            raise RddsError("the database's disclosure log has no head row (see rdds audit verify)")
        count, top = int(row["count"]), await conn.fetchval("SELECT max(seq) FROM disclosure")
        if count == verdict.count and row["head"] == verdict.head:
            return f"already imported: {count} record(s), head {verdict.head}"
        if count or top:
            raise RddsError(
                f"the database's disclosure log already holds {max(count, top or 0)} record(s); "
                "a file log can only be imported into an empty one"
            )
        texts = [(n, raw.decode("ascii")) for n, raw in enumerate(lines[: verdict.count], 1)]
        await conn.copy_records_to_table("disclosure", records=texts, columns=("seq", "record"))
        await conn.execute(
            "UPDATE disclosure_head SET count = $1, head = $2", verdict.count, verdict.head
        )
    return f"imported {verdict.count} record(s), head {verdict.head}"
