"""`rdds audit verify|export|report`: check the disclosure log's hash chain, print it as JSON
lines, or print the transparency report (disclosures per month by tier and purpose)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from access import chain, disclosures
from access.cli import add_data_dir
from registry.errors import RddsError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The subcommands of `rdds audit`."""
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    ver = sub.add_parser("verify", help="check the hash chain and the anchor (exit 1 if broken)")
    add_data_dir(ver)
    exp = sub.add_parser("export", help="print the records as JSON lines")
    add_data_dir(exp)
    exp.add_argument("--since", help="only records at or after this date or RFC 3339 time")
    rep = sub.add_parser("report", help="disclosures per month by tier and purpose")
    add_data_dir(rep)


def run(args: argparse.Namespace) -> int:
    """Run `rdds audit ACTION`."""
    if not args.data_dir.is_dir():
        raise RddsError(f"audit: {args.data_dir}: not a directory")
    if args.action == "verify":
        return _verify(args)
    if args.action == "export":
        return _export(args)
    return _report(args)


def _verify(args: argparse.Namespace) -> int:
    verdict = disclosures.verify(args.data_dir)
    if not verdict.ok:
        assert verdict.problem is not None
        print(
            f"FAILED at line {verdict.problem.line}: {verdict.problem.message} "
            f"({verdict.count} record(s) before it verified)"
        )
        return 1
    print(f"ok: {verdict.count} record(s), head {verdict.head}")
    if verdict.beyond_anchor:
        print(
            f"note: {verdict.beyond_anchor} record(s) after the anchor (an interrupted append?); "
            "the chain is intact",
            file=sys.stderr,
        )
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


def _export(args: argparse.Namespace) -> int:
    start = _since(args.since) if args.since else None
    for record in chain.since(disclosures.records(args.data_dir), start):
        sys.stdout.write(chain.line(record).decode("ascii"))
    return 0


def _report(args: argparse.Namespace) -> int:
    rows = chain.report(disclosures.records(args.data_dir))
    sys.stdout.write(chain.render_report(rows))
    return 0
