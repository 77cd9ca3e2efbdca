"""The `rdds credential` and `rdds audit` subcommands (registered in `rdds.cli`)."""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from access import pgdb
from registry.errors import RddsError
from replica import postgres

T = TypeVar("T")

#: What a command on the database can meet (a malformed URL is a ValueError).
_ERRORS: tuple[type[BaseException], ...] = (*pgdb.DB_ERRORS, ValueError)


def add_move_arguments(parser: argparse.ArgumentParser) -> None:
    """`import`'s two required places: the data directory moved from, the database moved to."""
    parser.add_argument("--data-dir", type=Path, required=True, help="the data directory")
    parser.add_argument(
        "--replica",
        "--database",
        dest="database",
        metavar="URL",
        required=True,
        help="the PostgreSQL database (the primary), postgresql://...",
    )


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    """--data-dir or --replica (one of them, or the environment's): where the credentials
    and the disclosure log are."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--data-dir",
        type=Path,
        help="credentials and disclosure log directory (default $RDDS_DATA_DIR)",
    )
    where.add_argument(
        "--replica",
        "--database",
        dest="database",
        metavar="URL",
        help="the PostgreSQL database (the primary) holding them, postgresql://... "
        "(default $RDDS_AUTH_DATABASE, or $RDDS_REPLICA when it is one)",
    )


def target(args: argparse.Namespace, command: str) -> Path | str:
    """The data directory or the database URL the command works on: the flags, else
    $RDDS_AUTH_DATABASE, a PostgreSQL $RDDS_REPLICA, $RDDS_DATA_DIR (as `rdds serve` picks)."""
    if args.database is not None:
        if not postgres.is_url(args.database):
            raise RddsError(
                f"{command}: --replica: expected a postgresql:// URL (with a SQLite replica, "
                "credentials and the log are in the data directory: --data-dir)"
            )
        return str(args.database)
    if args.data_dir is not None:
        return Path(args.data_dir)
    env = os.environ
    if env.get("RDDS_AUTH_DATABASE"):
        return env["RDDS_AUTH_DATABASE"]
    if postgres.is_url(env.get("RDDS_REPLICA", "")):
        return env["RDDS_REPLICA"]
    if env.get("RDDS_DATA_DIR"):
        return Path(env["RDDS_DATA_DIR"])
    raise RddsError(f"{command}: give --data-dir DIR or --replica postgresql://...")


def on_database(url: str, command: str, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run `work(connection)` on a connection of its own to `url`, after checking that the
    access tables exist; any database failure is one RddsError line (no password in it)."""
    import asyncpg

    where = pgdb.redact_url(url)

    async def go() -> T:
        # Bounded: a silent network ends the command with one line, never a hang.
        conn = await asyncpg.connect(url, timeout=10, command_timeout=60)
        try:
            if await pgdb.missing_tables(conn):
                raise RddsError(
                    f"{command}: {where}: no credential and disclosure tables (run rdds db init)"
                )
            return await work(conn)
        finally:
            await conn.close()

    try:
        return asyncio.run(go())
    except _ERRORS as exc:
        raise RddsError(f"{command}: {where}: {pgdb.reason(exc)}") from None
