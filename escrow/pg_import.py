"""`rdds import` into a PostgreSQL replica, through the SQLite importer.

The chain, reference and count rules live once, in `escrow.importer` against a SQLite
connection. An import into PostgreSQL therefore runs in one PostgreSQL transaction that:

1. takes the import lock (`pg_advisory_xact_lock`: importers run one at a time);
2. copies the replica's current rows into a private SQLite file (the "before");
3. copies that file and applies the deposits to the copy with the SQLite importer (the
   "after"; a deposit that fails rolls back there, the ones before it stay, as in SQLite);
4. diffs after against before table by table (SQLite EXCEPT on whole rows) and writes only
   the difference: deletes by primary key, then inserts with COPY;
5. NOTIFYs `pg_schema.CHANNEL` with the new generation and commits.

Readers keep reading the old snapshot until the commit (MVCC, no table locks taken), then
see every change and the new generation at once. docs/scale-out.md gives the trade-off
(step 2 reads the whole replica; the write is proportional to the change).
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import asyncpg

from escrow.importer import ImportFailed, import_deposits
from registry.errors import ReplicaError
from replica import pg_schema, schema
from replica.postgres import check_schema, redact_url

#: Rows per COPY batch and per fetch from PostgreSQL.
BATCH = 10_000


def _quiet(_: str) -> None:
    pass


def _columns(conn: sqlite3.Connection, table: str, db: str = "main") -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA {db}.table_info({table})")]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def dump(pg: Any, path: Path) -> None:
    """Write the PostgreSQL replica's rows into a new SQLite replica at `path`."""
    lite = sqlite3.connect(path, isolation_level=None)
    try:
        schema.create(lite)
        lite.execute("BEGIN")
        lite.execute("DELETE FROM meta")
        for table, _ in pg_schema.TABLES:
            cols = _columns(lite, table)
            select = f"SELECT {', '.join(map(_q, cols))} FROM {table}"
            insert = f"INSERT INTO {table} VALUES ({', '.join('?' * len(cols))})"
            cursor = pg.cursor(select, prefetch=BATCH)
            batch: list[tuple[Any, ...]] = []
            async for record in cursor:
                batch.append(tuple(record))
                if len(batch) >= BATCH:
                    lite.executemany(insert, batch)
                    batch.clear()
            lite.executemany(insert, batch)
        lite.execute("COMMIT")
    finally:
        lite.close()


async def push(pg: Any, before: Path | None, after: Path) -> dict[str, tuple[int, int]]:
    """Make the PostgreSQL replica (equal to `before`, or empty when None) equal to `after`
    by writing the difference in the caller's transaction. Returns, per table, (rows deleted,
    rows inserted)."""
    lite = sqlite3.connect(after, isolation_level=None)
    counts: dict[str, tuple[int, int]] = {}
    try:
        if before is not None:
            lite.execute("ATTACH DATABASE ? AS old", (str(before),))
        deletes: list[tuple[str, tuple[str, ...], list[tuple[Any, ...]]]] = []
        inserts: list[tuple[str, list[str], list[tuple[Any, ...]]]] = []
        for table, key in pg_schema.TABLES:
            cols = _columns(lite, table)
            listed = ", ".join(map(_q, cols))
            if before is None:
                gone: list[tuple[Any, ...]] = []
                new = lite.execute(f"SELECT {listed} FROM main.{table}").fetchall()
            else:
                keys = ", ".join(map(_q, key))
                gone = lite.execute(
                    f"SELECT {keys} FROM (SELECT {listed} FROM old.{table} "
                    f"EXCEPT SELECT {listed} FROM main.{table})"
                ).fetchall()
                new = lite.execute(
                    f"SELECT {listed} FROM main.{table} EXCEPT SELECT {listed} FROM old.{table}"
                ).fetchall()
            deletes.append((table, key, gone))
            inserts.append((table, cols, new))
            counts[table] = (len(gone), len(new))
    finally:
        lite.close()
    if before is None:
        for table, _ in pg_schema.TABLES:
            await pg.execute(f"DELETE FROM {table}")
    for table, key, gone in deletes:
        if not gone:
            continue
        tmp = f"rdds_gone_{table}"
        keys = ", ".join(map(_q, key))
        await pg.execute(
            f"CREATE TEMP TABLE {tmp} ON COMMIT DROP AS SELECT {keys} FROM {table} WITH NO DATA"
        )
        await pg.copy_records_to_table(tmp, records=gone, columns=list(key))
        match = " AND ".join(f"t.{_q(k)} = g.{_q(k)}" for k in key)
        await pg.execute(f"DELETE FROM {table} AS t USING {tmp} AS g WHERE {match}")
    for table, cols, new in inserts:
        for start in range(0, len(new), BATCH):
            await pg.copy_records_to_table(table, records=new[start : start + BATCH], columns=cols)
    return counts


async def _generation(pg: Any) -> int:
    value = await pg.fetchval("SELECT value FROM meta WHERE key = $1", schema.META_GENERATION)
    return int(value or 0)


async def import_into(
    url: str,
    deposits: Sequence[Path],
    *,
    report: Callable[[str], None] = _quiet,
) -> int:
    """Apply `deposits` to the PostgreSQL replica at `url` (creating the schema if absent);
    return the new generation. Raises ImportFailed (after committing the deposits applied
    before the failing one, as the SQLite importer does) or ReplicaError."""
    where = redact_url(url)
    try:
        pg = await asyncpg.connect(url, timeout=10)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
        raise ReplicaError(f"replica {where}: cannot connect ({type(exc).__name__})") from None
    failure: ImportFailed | None = None
    try:
        await pg_schema.create(pg)
        await check_schema(pg, where)
        with tempfile.TemporaryDirectory(prefix="rdds-pg-import-") as tmp:
            before, after = Path(tmp) / "before.sqlite", Path(tmp) / "after.sqlite"
            async with pg.transaction():
                await pg.execute(f"SELECT pg_advisory_xact_lock({pg_schema.IMPORT_LOCK})")
                start = await _generation(pg)
                await dump(pg, before)
                shutil.copyfile(before, after)
                try:
                    await asyncio.to_thread(import_deposits, after, deposits, report=report)
                except ImportFailed as exc:
                    failure = exc
                await push(pg, before, after)
                generation = await _generation(pg)
                if generation != start:
                    await pg.execute("SELECT pg_notify($1, $2)", pg_schema.CHANNEL, str(generation))
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        raise ReplicaError(
            f"replica {where}: import failed, nothing committed ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:120] if str(exc) else ''})"
        ) from None
    finally:
        await pg.close()
    if failure is not None:
        raise failure
    return generation


async def load(url: str, replica: Path) -> int:
    """Replace the PostgreSQL replica's rows with the SQLite replica's (one transaction,
    NOTIFY on commit); return its generation. For moving an existing replica over and for
    tests."""
    pg = await asyncpg.connect(url, timeout=10)
    try:
        await pg_schema.create(pg)
        async with pg.transaction():
            await pg.execute(f"SELECT pg_advisory_xact_lock({pg_schema.IMPORT_LOCK})")
            await push(pg, None, replica)
            generation = await _generation(pg)
            await pg.execute("SELECT pg_notify($1, $2)", pg_schema.CHANNEL, str(generation))
    finally:
        await pg.close()
    return generation
