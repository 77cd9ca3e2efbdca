"""`rdds audit verify|head|export|report|import`: check the disclosure log's hash chain
(against a head noted earlier, too), print its head hash to keep off the machine, print it as
JSON lines, or print the transparency report (disclosures per month by tier and purpose); in
a data directory or in PostgreSQL. `import` copies a data directory's log into an empty
PostgreSQL log, hashes and all."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from access import chain, disclosures, pglog
from access.cli import add_data_dir, add_move_arguments, on_database, target
from registry.errors import RddsError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The subcommands of `rdds audit`."""
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    ver = sub.add_parser("verify", help="check the hash chain and the anchor (exit 1 if broken)")
    add_data_dir(ver)
    ver.add_argument(
        "--expect-head",
        metavar="HASH",
        help="a head printed by `rdds audit head` earlier: fail unless the log still holds it",
    )
    head = sub.add_parser("head", help="verify, then print the head hash to keep off the machine")
    add_data_dir(head)
    exp = sub.add_parser("export", help="print the records as JSON lines")
    add_data_dir(exp)
    exp.add_argument("--since", help="only records at or after this date or RFC 3339 time")
    rep = sub.add_parser("report", help="disclosures per month by tier and purpose")
    add_data_dir(rep)
    imp = sub.add_parser(
        "import", help="copy a data directory's verified log into an empty PostgreSQL log"
    )
    add_move_arguments(imp)


def run(args: argparse.Namespace) -> int:
    """Run `rdds audit ACTION`."""
    where = target(args, f"audit {args.action}")
    if isinstance(where, Path) and not where.is_dir():
        raise RddsError(f"audit: {where}: not a directory")
    args.where = where
    if args.action == "import":
        return _import(args)
    if args.action == "verify":
        return _verify(args)
    if args.action == "head":
        return _head(args)
    if args.action == "export":
        return _export(args)
    return _report(args)


def _verdict(args: argparse.Namespace, expect: str | None = None) -> chain.Verdict:
    where = args.where
    if isinstance(where, Path):
        return disclosures.verify(where, expect)
    command = f"audit {args.action}"
    return on_database(where, command, lambda conn: pglog.verify(conn, command, expect))


def _failed(verdict: chain.Verdict, rows: bool = False) -> int:
    assert verdict.problem is not None
    unit = "row" if rows else "line"  # in the database: the Nth record in seq order
    where = f" at {unit} {verdict.problem.line}" if verdict.problem.line else ""
    print(
        f"FAILED{where}: {verdict.problem.message} ({verdict.count} record(s) before it verified)"
    )
    return 1


def _verify(args: argparse.Namespace) -> int:
    expect = args.expect_head
    if expect is not None:
        expect = expect.strip().lower()
        if not chain.is_hash(expect):
            raise RddsError(
                "audit verify: --expect-head: expected the 64 hex digits `rdds audit head` prints"
            )
    verdict = _verdict(args, expect)
    if not verdict.ok:
        return _failed(verdict, isinstance(args.where, str))
    print(f"ok: {verdict.count} record(s), head {verdict.head}")
    if verdict.expected_at is not None:
        print(f"the expected head is record {verdict.expected_at}: the log holds it unchanged")
    if verdict.beyond_anchor:
        print(
            f"note: {verdict.beyond_anchor} record(s) after the anchor (an interrupted append?); "
            "the chain is intact",
            file=sys.stderr,
        )
    return 0


def _head(args: argparse.Namespace) -> int:
    verdict = _verdict(args)
    if not verdict.ok:
        return _failed(verdict, isinstance(args.where, str))
    print(verdict.head)
    return 0


def _since(text: str) -> str:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return chain.format_time(dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC))
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RddsError(
            f"audit export: --since {text!r}: expected a date or RFC 3339 time"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return chain.format_time(when)


def _records(args: argparse.Namespace, consume: Any) -> Any:
    """`consume(records)`: the data directory's, or the database's (read in one snapshot)."""
    where = args.where
    if isinstance(where, Path):
        return consume(disclosures.records(where))
    command = f"audit {args.action}"

    def each(rows: Iterator[Any]) -> Any:
        return consume(pglog.records_of(rows))

    return on_database(where, command, lambda conn: pglog.in_snapshot(conn, command, each))


def _export(args: argparse.Namespace) -> int:
    start = _since(args.since) if args.since else None

    def write(records: Iterable[dict[str, Any]]) -> None:
        for record in records:
            if start is None or str(record["time"]) >= start:
                sys.stdout.write(chain.line(record).decode("ascii"))

    _records(args, write)
    return 0


def _report(args: argparse.Namespace) -> int:
    rows = _records(args, chain.report)
    sys.stdout.write(chain.render_report(rows))
    return 0


def _import(args: argparse.Namespace) -> int:
    if not args.data_dir.is_dir():
        raise RddsError(f"audit import: {args.data_dir}: not a directory")
    verdict = disclosures.verify(args.data_dir)
    if not verdict.ok:
        assert verdict.problem is not None
        raise RddsError(
            f"audit import: {args.data_dir}: the log does not verify ({verdict.problem.message}); "
            "nothing was imported"
        )
    lines = list(disclosures.lines(args.data_dir / disclosures.LOG))
    done = on_database(
        args.where, "audit import", lambda conn: pglog.import_records(conn, lines, verdict)
    )
    print(f"audit import: {done}")
    return 0
