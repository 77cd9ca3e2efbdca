"""`rdds audit verify|head|export|report`: check the disclosure log's hash chain (against a
head noted earlier, too), print its head hash to keep off the machine, print it as JSON lines,
or print the transparency report (disclosures per month by tier and purpose)."""

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


def run(args: argparse.Namespace) -> int:
    """Run `rdds audit ACTION`."""
    if not args.data_dir.is_dir():
        raise RddsError(f"audit: {args.data_dir}: not a directory")
    if args.action == "verify":
        return _verify(args)
    if args.action == "head":
        return _head(args)
    if args.action == "export":
        return _export(args)
    return _report(args)


def _failed(verdict: chain.Verdict) -> int:
    assert verdict.problem is not None
    where = f" at line {verdict.problem.line}" if verdict.problem.line else ""
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
    verdict = disclosures.verify(args.data_dir, expect)
    if not verdict.ok:
        return _failed(verdict)
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
    verdict = disclosures.verify(args.data_dir)
    if not verdict.ok:
        return _failed(verdict)
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


def _export(args: argparse.Namespace) -> int:
    start = _since(args.since) if args.since else None
    for record in chain.since(disclosures.records(args.data_dir), start):
        sys.stdout.write(chain.line(record).decode("ascii"))
    return 0


def _report(args: argparse.Namespace) -> int:
    rows = chain.report(disclosures.records(args.data_dir))
    sys.stdout.write(chain.render_report(rows))
    return 0
