"""`rdds import` into a PostgreSQL replica, through the SQLite importer and a working copy.

The chain, reference and count rules live once, in `escrow.importer` against a SQLite
connection. The importer therefore keeps a SQLite copy of the PostgreSQL replica, the
working copy (one private file per database under `--work-dir`), and an import runs in one
PostgreSQL transaction that:

1. takes the import lock (`pg_advisory_xact_lock`: importers run one at a time);
2. checks the working copy against the database: the token the last import (or `load`)
   committed, the generation, the watermark and the last deposit. Only when they differ (no
   copy on this machine yet, another importer wrote since, a commit that failed, a new rdds
   with another table layout) is the copy rebuilt from the database's rows: the one step
   that reads the whole replica;
3. marks the copy unfinished and applies the deposits to it with the SQLite importer (a
   deposit that fails rolls back there, the ones before it stay, as in SQLite); triggers in
   the copy record the primary key of every row inserted, updated or deleted;
4. writes exactly those rows: deletes by primary key, then the rows' current versions by
   COPY (a copy that held no rows is written whole instead, without triggers);
5. writes a new random token to the copy and to the database, NOTIFYs `pg_schema.CHANNEL`
   with the new generation and commits.

Readers keep reading the old snapshot until the commit (MVCC, no table locks taken), then
see every change and the new generation at once. A DIFF costs the SQLite importer's work on
the copy plus a write proportional to the rows it touched, not a read of the replica. Any
failure before the commit leaves the database as it was and the copy unfinished or with a
token the database does not have, so the next import rebuilds it. docs/scale-out.md gives
the measured costs.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
import secrets
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import asyncpg

from escrow.importer import ImportFailed, import_deposits
from registry.errors import ReplicaError
from replica import pg_schema, schema
from replica.postgres import check_schema, redact_url

#: Rows per COPY batch and per fetch from PostgreSQL.
BATCH = 10_000

#: In PostgreSQL: the token of the last import or load (one row). Importers only.
STATE_DDL = "CREATE TABLE IF NOT EXISTS rdds_import_state (token TEXT NOT NULL)"

#: In the working copy: the token it matches and the table layout it was built with (one
#: row; none while an import is under way or after a failed one).
_WORK_STATE = "rdds_work_state"

#: The table layout a working copy is built for: a new schema or table list rebuilds it.
LAYOUT = hashlib.sha256((schema.SCHEMA + repr(pg_schema.TABLES)).encode()).hexdigest()[:16]


def _quiet(_: str) -> None:
    pass


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA main.table_info({table})")]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _log(table: str) -> str:
    """The working copy's table of the primary keys of `table`'s touched rows."""
    return f"rdds_touched_{table}"


def _batches(cursor: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in cursor:
        batch.append(tuple(row))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


# --- the working copy ----------------------------------------------------------------------


def default_work_dir() -> Path | None:
    """$XDG_CACHE_HOME/rdds/import (else ~/.cache/rdds/import); None when there is no home
    directory either (a container's arbitrary uid): the import then uses a temporary copy."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:
            return None
    return Path(base) / "rdds" / "import"


def _unsafe(work_dir: Path) -> str | None:
    """Why `work_dir` may not hold a working copy, or None: it must be this user's and
    writable by nobody else (a planted `-wal` file would change the copy behind the
    triggers, and the copy holds every contact's data)."""
    st = work_dir.stat()
    if st.st_uid != os.geteuid():
        return "not owned by this user"
    if st.st_mode & 0o022:
        return "writable by group or others (chmod go-w)"
    return None


@contextlib.contextmanager
def _exclusive(copy: Path) -> Iterator[None]:
    """Hold `<copy>.lock` (flock) for the whole import: a second importer on the same
    working copy is refused, even when the database's import lock was already released
    (an interrupted run whose thread still writes the copy)."""
    fd = os.open(f"{copy}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ReplicaError(
                f"working copy {copy} is in use by another import; try again when it ends"
            ) from None
        yield
    finally:
        os.close(fd)


def work_path(work_dir: Path, url: str) -> Path:
    """The working copy of the database at `url`: one file per database (no password in the
    name, which is a digest of the URL without it)."""
    where = redact_url(url)
    db = where.rsplit("/", 1)[-1].split("?", 1)[0]
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in db)[:40] or "db"
    return work_dir / f"{safe}-{hashlib.sha256(where.encode()).hexdigest()[:12]}.sqlite"


@contextlib.contextmanager
def _work_file(
    work_dir: Path | None, url: str, fall_back: bool, report: Callable[[str], None]
) -> Iterator[tuple[Path, bool]]:
    """The working copy's path, and whether it persists after this import."""
    if work_dir is not None:
        try:
            work_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            reason = _unsafe(work_dir)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
        if reason is not None:
            if not fall_back:
                raise ReplicaError(f"working copy directory {work_dir}: {reason}") from None
            report(
                f"working copy: cannot use {work_dir} ({reason}); this import reads the "
                "whole replica (set --work-dir)"
            )
        else:
            copy = work_path(work_dir, url)
            with _exclusive(copy):
                yield copy, True
            return
    # A throw-away copy: the import reads the whole replica.
    with tempfile.TemporaryDirectory(prefix="rdds-pg-import-") as tmp:
        yield Path(tmp) / "work.sqlite", False


def _remove(path: Path) -> None:
    for p in (path, *(Path(f"{path}{s}") for s in ("-wal", "-shm", "-journal"))):
        p.unlink(missing_ok=True)


Signature = tuple[str | None, ...]


def _work_signature(path: Path) -> Signature | None:
    """What the working copy says it matches, or None (absent, unfinished, unreadable, or
    built for another table layout)."""
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = conn.execute(f"SELECT token, layout FROM {_WORK_STATE}").fetchone()
            if row is None or row[1] != LAYOUT:
                return None
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            last = conn.execute(
                "SELECT seq, digest FROM deposit ORDER BY seq DESC LIMIT 1"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return _signature(row[0], meta, last)


async def _pg_signature(pg: Any) -> Signature:
    token = await pg.fetchval("SELECT token FROM rdds_import_state LIMIT 1")
    meta = {r["key"]: r["value"] for r in await pg.fetch("SELECT key, value FROM meta")}
    last = await pg.fetchrow("SELECT seq, digest FROM deposit ORDER BY seq DESC LIMIT 1")
    return _signature(token, meta, tuple(last) if last is not None else None)


def _signature(token: str | None, meta: dict[str, str], last: Any) -> Signature:
    return (
        token,
        meta.get(schema.META_SCHEMA),
        meta.get(schema.META_GENERATION),
        meta.get(schema.META_WATERMARK),
        None if last is None else str(last[0]),
        None if last is None else str(last[1]),
    )


async def dump(pg: Any, path: Path) -> None:
    """Write the PostgreSQL replica's rows into a new SQLite replica at `path` (replacing any
    file there), private to the owner: it holds every contact's data."""
    _remove(path)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    lite = sqlite3.connect(path, isolation_level=None)
    try:
        # A file being built is worthless until its token is written: no journal needed.
        lite.execute("PRAGMA journal_mode = OFF")
        lite.execute("PRAGMA synchronous = OFF")
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
    if not _is_empty(path):
        _analyze(path)


def _analyze(path: Path) -> None:
    """Statistics for the importer's queries (the SQLite importer's own replicas get them
    when built); sampled, so that a large copy does not pay a full ANALYZE."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA analysis_limit = 1000")
        conn.execute("ANALYZE")
    finally:
        conn.close()


def _is_empty(path: Path) -> bool:
    """The copy holds no rows but its metadata (an empty database)."""
    conn = sqlite3.connect(path)
    try:
        return all(
            conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is None
            for table, _ in pg_schema.TABLES
            if table != "meta"
        )
    finally:
        conn.close()


def _prepare(path: Path, track: bool) -> None:
    """Mark the copy unfinished and set up (or remove) the triggers that record touched keys.

    Each table gets a table of its primary keys and three triggers; `INSERT OR REPLACE`
    deletions fire the delete trigger because the SQLite importer enables recursive triggers.
    """
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {_WORK_STATE} (token TEXT NOT NULL, layout TEXT NOT NULL)"
        )
        conn.execute(f"DELETE FROM {_WORK_STATE}")
        for table, key in pg_schema.TABLES:
            for event in ("insert", "update", "delete"):
                conn.execute(f"DROP TRIGGER IF EXISTS rdds_{event}_{table}")
            if not track:
                continue
            types = {row[1]: row[2] for row in conn.execute(f"PRAGMA table_info({table})")}
            log, keys = _log(table), ", ".join(map(_q, key))
            declared = ", ".join(f"{_q(k)} {types[k]}" for k in key)
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {log} ({declared}, PRIMARY KEY ({keys})) WITHOUT ROWID"
            )
            conn.execute(f"DELETE FROM {log}")
            old, new = (_record(log, key, row) for row in ("OLD", "NEW"))
            conn.execute(
                f"CREATE TRIGGER rdds_insert_{table} AFTER INSERT ON {table} BEGIN {new}; END"
            )
            conn.execute(
                f"CREATE TRIGGER rdds_update_{table} AFTER UPDATE ON {table} "
                f"BEGIN {old}; {new}; END"
            )
            conn.execute(
                f"CREATE TRIGGER rdds_delete_{table} AFTER DELETE ON {table} BEGIN {old}; END"
            )
        conn.execute("COMMIT")
    finally:
        conn.close()


def _record(log: str, key: tuple[str, ...], row: str) -> str:
    """A trigger statement adding the OLD or NEW row's key to `log` once. Not INSERT OR
    IGNORE: in a trigger, the firing statement's conflict clause would override it."""
    keys = ", ".join(map(_q, key))
    values = ", ".join(f"{row}.{_q(k)}" for k in key)
    match = " AND ".join(f"{_q(k)} = {row}.{_q(k)}" for k in key)
    return (
        f"INSERT INTO {log} ({keys}) SELECT {values} "
        f"WHERE NOT EXISTS (SELECT 1 FROM {log} WHERE {match})"
    )


def _finish(path: Path, token: str) -> None:
    """The copy now matches the database as committed with `token`: forget the touched keys."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        for table, _ in pg_schema.TABLES:
            conn.execute(f"DROP TRIGGER IF EXISTS rdds_insert_{table}")  # none while idle
            conn.execute(f"DROP TRIGGER IF EXISTS rdds_update_{table}")
            conn.execute(f"DROP TRIGGER IF EXISTS rdds_delete_{table}")
            if conn.execute(
                "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?", (_log(table),)
            ).fetchone():
                conn.execute(f"DELETE FROM {_log(table)}")
        conn.execute(f"DELETE FROM {_WORK_STATE}")
        conn.execute(f"INSERT INTO {_WORK_STATE} VALUES (?, ?)", (token, LAYOUT))
        conn.execute("COMMIT")
    finally:
        conn.close()


# --- writing PostgreSQL --------------------------------------------------------------------


async def push_all(pg: Any, replica: Path) -> dict[str, tuple[int, int]]:
    """Replace every row of the PostgreSQL replica with the SQLite replica's, in the caller's
    transaction (DELETE, never TRUNCATE: readers keep their snapshot). Returns, per table,
    (rows deleted, rows inserted)."""
    lite = sqlite3.connect(replica)
    counts: dict[str, tuple[int, int]] = {}
    try:
        for table, _ in pg_schema.TABLES:
            status = await pg.execute(f"DELETE FROM {table}")
            cols = _columns(lite, table)
            inserted = 0
            rows = lite.execute(f"SELECT {', '.join(map(_q, cols))} FROM main.{table}")
            for batch in _batches(rows):
                await pg.copy_records_to_table(table, records=batch, columns=cols)
                inserted += len(batch)
            counts[table] = (int(status.split()[-1]), inserted)
            # Fresh statistics, committed with the rows: the first lookups plan well.
            await pg.execute(f"ANALYZE {table}")
    finally:
        lite.close()
    return counts


async def push_touched(pg: Any, work: Path) -> dict[str, tuple[int, int]]:
    """Write the rows the working copy's triggers recorded: delete every recorded key, then
    insert the copy's current row for each key that still has one (all deletes first, so that
    a unique key moving from one row to another never collides). Returns, per table touched,
    (rows deleted, rows inserted)."""
    lite = sqlite3.connect(work)
    counts: dict[str, tuple[int, int]] = {}
    try:
        touched = [
            (table, key)
            for table, key in pg_schema.TABLES
            if lite.execute(f"SELECT 1 FROM {_log(table)} LIMIT 1").fetchone() is not None
        ]
        for table, key in touched:
            keys = ", ".join(map(_q, key))
            tmp = f"rdds_gone_{table}"
            await pg.execute(
                f"CREATE TEMP TABLE {tmp} ON COMMIT DROP AS SELECT {keys} FROM {table} WITH NO DATA"
            )
            for batch in _batches(lite.execute(f"SELECT {keys} FROM {_log(table)}")):
                await pg.copy_records_to_table(tmp, records=batch, columns=list(key))
            # Its size, so that a few keys are deleted through the primary key's index.
            await pg.execute(f"ANALYZE {tmp}")
            match = " AND ".join(f"t.{_q(k)} = g.{_q(k)}" for k in key)
            status = await pg.execute(f"DELETE FROM {table} AS t USING {tmp} AS g WHERE {match}")
            counts[table] = (int(status.split()[-1]), 0)
        for table, key in touched:
            cols = _columns(lite, table)
            listed = ", ".join(f"t.{_q(c)}" for c in cols)
            match = " AND ".join(f"t.{_q(k)} = k.{_q(k)}" for k in key)
            rows = lite.execute(
                f"SELECT {listed} FROM {_log(table)} AS k JOIN main.{table} AS t ON {match}"
            )
            inserted = 0
            for batch in _batches(rows):
                await pg.copy_records_to_table(table, records=batch, columns=cols)
                inserted += len(batch)
            counts[table] = (counts[table][0], inserted)
    finally:
        lite.close()
    return counts


async def _generation(pg: Any) -> int:
    value = await pg.fetchval("SELECT value FROM meta WHERE key = $1", schema.META_GENERATION)
    return int(value or 0)


async def _new_token(pg: Any) -> str:
    token = secrets.token_hex(16)
    await pg.execute("DELETE FROM rdds_import_state")
    await pg.execute("INSERT INTO rdds_import_state VALUES ($1)", token)
    return token


def _one_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0][:120] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --- the entry points ----------------------------------------------------------------------


async def _to_thread_to_the_end(fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    """`fn` in a thread; when the import is cancelled (Ctrl-C), wait for the thread to end
    before giving the working copy up: a thread cannot be stopped, and the copy must not be
    let go (its lock released, its file rebuilt by the next import) while it still writes."""
    job = asyncio.ensure_future(asyncio.to_thread(fn, *args, **kw))
    try:
        return await asyncio.shield(job)
    except asyncio.CancelledError:
        with contextlib.suppress(BaseException):
            await job
        raise


async def import_into(
    url: str,
    deposits: Sequence[Path],
    *,
    work_dir: Path | None = None,
    fall_back: bool = False,
    report: Callable[[str], None] = _quiet,
) -> int:
    """Apply `deposits` to the PostgreSQL replica at `url` (creating the schema if absent);
    return the new generation. The working copy lives in `work_dir` (created if missing);
    None, or a directory that cannot be created when `fall_back` is set (reported), means a
    temporary copy: the import then reads the whole replica. Raises ImportFailed (after
    committing the deposits applied before the failing one, as the SQLite importer does)
    or ReplicaError."""
    where = redact_url(url)
    try:
        pg = await asyncpg.connect(url, timeout=10)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
        raise ReplicaError(f"replica {where}: cannot connect ({type(exc).__name__})") from None
    failure: ImportFailed | None = None
    work: Path | None = None
    try:
        await pg_schema.create(pg)
        await check_schema(pg, where)
        with _work_file(work_dir, url, fall_back, report) as (work, kept):
            async with pg.transaction():
                await pg.execute(f"SELECT pg_advisory_xact_lock({pg_schema.IMPORT_LOCK})")
                await pg.execute(STATE_DDL)
                start = await _generation(pg)
                if _work_signature(work) != await _pg_signature(pg):
                    if kept:
                        report(f"working copy {work}: rebuilding it from the replica")
                    await dump(pg, work)
                fresh = _is_empty(work)
                _prepare(work, track=not fresh)
                try:
                    await _to_thread_to_the_end(import_deposits, work, deposits, report=report)
                except ImportFailed as exc:
                    failure = exc
                if fresh:
                    _analyze(work)  # as the SQLite importer does for a replica it creates
                    await push_all(pg, work)
                else:
                    await push_touched(pg, work)
                generation = await _generation(pg)
                if generation != start:
                    await pg.execute("SELECT pg_notify($1, $2)", pg_schema.CHANNEL, str(generation))
                # The copy takes the token first: if the commit then fails, the database
                # keeps the old one and the next import rebuilds the copy.
                _finish(work, await _new_token(pg))
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        raise ReplicaError(
            f"replica {where}: import failed, nothing committed ({_one_line(exc)})"
        ) from None
    except sqlite3.Error as exc:
        raise ReplicaError(
            f"replica {where}: working copy {work}: {_one_line(exc)}; nothing committed"
        ) from None
    finally:
        await pg.close()
    if failure is not None:
        raise failure
    return generation


async def load(url: str, replica: Path) -> int:
    """Replace the PostgreSQL replica's rows with the SQLite replica's (one transaction,
    NOTIFY on commit); return its generation. For moving an existing replica over and for
    tests. Every importer's working copy of the database is rebuilt at its next import."""
    pg = await asyncpg.connect(url, timeout=10)
    try:
        await pg_schema.create(pg)
        async with pg.transaction():
            await pg.execute(f"SELECT pg_advisory_xact_lock({pg_schema.IMPORT_LOCK})")
            await pg.execute(STATE_DDL)
            await push_all(pg, replica)
            await _new_token(pg)
            generation = await _generation(pg)
            await pg.execute("SELECT pg_notify($1, $2)", pg_schema.CHANNEL, str(generation))
    finally:
        await pg.close()
    return generation
