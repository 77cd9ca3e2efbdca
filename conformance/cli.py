"""Command-line layer of the conformance checker: `rdds check` arguments, output and exit status."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from conformance import client
from conformance.findings import Finding, Severity


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `check` arguments to `parser`."""
    parser.add_argument("urls", nargs="*", metavar="URL", help="RDAP URLs to fetch and judge")
    parser.add_argument(
        "--json", action="store_true", help="print findings as a JSON array (summary to stderr)"
    )
    parser.add_argument(
        "--whois",
        nargs=2,
        metavar=("HOST:PORT", "NAME"),
        help="query a port-43 WHOIS server for NAME and judge the answer",
    )
    parser.add_argument(
        "--gtld",
        action="store_const",
        const=True,
        default=None,
        help="apply the ICANN gTLD profile even when answers do not declare it",
    )
    parser.add_argument(
        "--no-probes",
        dest="probes",
        action="store_false",
        help="do not send the extra not-found, bad-request and mixed-case probes",
    )
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds per request (default 10)"
    )


def run(args: argparse.Namespace) -> int:
    """Run the checks `args` ask for; return 0 (no errors), 1 (errors) or 2 (usage error)."""
    urls: list[str] = list(args.urls or [])
    whois: Sequence[str] | None = args.whois
    if not urls and not whois:
        print("rdds check: give at least one URL or --whois HOST:PORT NAME", file=sys.stderr)
        return 2
    if args.timeout <= 0:
        print("rdds check: --timeout must be positive", file=sys.stderr)
        return 2
    target: tuple[str, int, str] | None = None
    if whois:
        parsed = parse_host_port(whois[0])
        if parsed is None:
            print(f"rdds check: --whois wants HOST:PORT, got {whois[0]!r}", file=sys.stderr)
            return 2
        target = (*parsed, whois[1])
    findings = asyncio.run(_gather(urls, target, args))
    targets = f"{len(urls)} URL{'' if len(urls) == 1 else 's'}"
    if target:
        targets += " and 1 WHOIS query"
    summary = f"{summarize(findings)} for {targets}"
    if args.json:
        json.dump([f.to_json() for f in findings], sys.stdout, indent=2, ensure_ascii=False)
        print()
        print(summary, file=sys.stderr)
    else:
        write_text(findings, sys.stdout)
        print(summary)
    return 1 if any(f.severity is Severity.ERROR for f in findings) else 0


def parse_host_port(text: str) -> tuple[str, int] | None:
    """Split `host:port` or `[v6]:port`; None when malformed."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        return None  # a bare IPv6 address needs brackets
    return host, int(port)


def format_finding(finding: Finding) -> str:
    """Render one finding as one line: `SEVERITY code URL path: message [rule]`."""
    where = f"{finding.url} {finding.path}" if finding.url else finding.path
    return f"{finding.severity.upper()} {finding.code} {where}: {finding.message} [{finding.rfc}]"


def write_text(findings: Sequence[Finding], out: TextIO) -> None:
    """Write findings one per line."""
    for finding in findings:
        print(format_finding(finding), file=out)


def summarize(findings: Sequence[Finding]) -> str:
    """Return e.g. `3 errors, 1 warning, 0 info`."""
    counts = {s: sum(1 for f in findings if f.severity is s) for s in Severity}
    errors, warnings = counts[Severity.ERROR], counts[Severity.WARNING]
    return (
        f"{errors} error{'' if errors == 1 else 's'}, "
        f"{warnings} warning{'' if warnings == 1 else 's'}, {counts[Severity.INFO]} info"
    )


async def _gather(
    urls: list[str], target: tuple[str, int, str] | None, args: argparse.Namespace
) -> list[Finding]:
    findings: list[Finding] = []
    if urls:
        findings += await client.check_urls(
            urls, probes=args.probes, gtld=args.gtld, timeout=args.timeout
        )
    if target:
        host, port, name = target
        findings += await client.check_whois_server(host, port, name, timeout=args.timeout)
    return findings
