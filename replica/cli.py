"""The `rdds db` subcommand: `rdds db init --replica URL` creates (or upgrades) the
PostgreSQL replica schema (`replica.pg_schema`); `rdds import` does the same on its own."""

from __future__ import annotations

import argparse
import asyncio
import sys

import asyncpg

from replica import pg_schema, postgres


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`rdds db init --replica postgresql://...`."""
    parser.add_argument("action", choices=("init",), help="init: create the replica schema")
    parser.add_argument(
        "--replica", required=True, help="the PostgreSQL database (postgresql://...)"
    )


def run(args: argparse.Namespace) -> int:
    """Run `rdds db`; 0 on success, 1 with one line on failure."""
    url: str = args.replica
    if not postgres.is_url(url):
        print("rdds db: --replica: expected a postgresql:// URL", file=sys.stderr)
        return 1
    try:
        asyncio.run(pg_schema.create_url(url))
    except (
        OSError,
        TimeoutError,
        ValueError,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
    ) as exc:
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        print(f"rdds db: replica {postgres.redact_url(url)}: {reason}", file=sys.stderr)
        return 1
    print(f"rdds db: replica {postgres.redact_url(url)}: schema ready", file=sys.stderr)
    return 0
