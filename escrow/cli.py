"""The `rdds import` subcommand: arguments and a one-line answer for every failure."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from escrow import pg_import, textfile
from escrow.importer import ImportFailed, import_deposits
from registry.errors import ReplicaError
from replica import open as replica_open


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`rdds import --replica PATH DEPOSIT [DEPOSIT ...]`."""
    parser.add_argument(
        "--replica",
        type=replica_open.parse,
        required=True,
        help="the SQLite replica file or PostgreSQL database (postgresql://...) to update",
    )
    parser.add_argument(
        "deposits",
        metavar="DEPOSIT",
        type=Path,
        nargs="+",
        help="RFC 8909 deposits (.xml or .xml.gz): a FULL, then DIFF/INCR in order",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        help="PostgreSQL only: where the importer keeps its working copy of the replica, so "
        "that a DIFF costs what it changes (default $XDG_CACHE_HOME/rdds/import)",
    )
    parser.add_argument("--quiet", action="store_true", help="print failures only")
    parser.add_argument(
        "--metrics-textfile", type=Path, help="record the run for node_exporter (a .prom file)"
    )


def run(args: argparse.Namespace) -> int:
    """Run `rdds import`; 0 on success, 1 with a one-line message on failure."""
    started = time.monotonic()
    code = _run(args)
    target = getattr(args, "metrics_textfile", None)
    if target is not None:
        try:
            textfile.write(target, args.replica, ok=code == 0, seconds=time.monotonic() - started)
        except OSError as exc:
            print(f"rdds import: {target}: cannot write: {exc.strerror or exc}", file=sys.stderr)
    return code


def _run(args: argparse.Namespace) -> int:
    quiet = bool(getattr(args, "quiet", False))

    def say(text: str) -> None:
        if not quiet:
            print(text, file=sys.stderr)

    try:
        if isinstance(args.replica, str):
            given = getattr(args, "work_dir", None)
            asyncio.run(
                pg_import.import_into(
                    args.replica,
                    args.deposits,
                    # The default directory may be unusable (no home): a temporary copy then.
                    work_dir=given or pg_import.default_work_dir(),
                    fall_back=given is None,
                    report=say,
                )
            )
        else:
            import_deposits(args.replica, args.deposits, report=say)
    except ReplicaError as exc:
        print(f"rdds import: {exc.message}", file=sys.stderr)
        return 1
    except ImportFailed as exc:
        print(f"rdds import: {exc.message}", file=sys.stderr)
        return 1
    except Exception as exc:  # never a traceback; the type only (messages may carry data)
        print(f"rdds import: internal error ({type(exc).__name__})", file=sys.stderr)
        return 1
    return 0
