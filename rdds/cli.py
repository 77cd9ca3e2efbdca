"""The `rdds` command: demo, serve, answers, import, check, credential, audit.

Every failure the operator can cause (bad flags, a missing replica, an invalid policy) ends
with one line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from access.cli import audit, credential
from conformance import cli as check_cli
from escrow import cli as import_cli
from escrow import export
from rdds import answers as rdds_answers
from rdds import config, workers
from registry.errors import RddsError
from replica import cli as db_cli
from replica import demo
from replica import open as replica_open

#: Subcommands implemented in other packages: (name, run, add_arguments, help).
_DELEGATED: tuple[
    tuple[str, Callable[[argparse.Namespace], int], Callable[[argparse.ArgumentParser], None], str],
    ...,
] = (
    (
        "check",
        check_cli.run,
        check_cli.add_arguments,
        "check any RDAP server (or a WHOIS server) for conformance",
    ),
    (
        "import",
        import_cli.run,
        import_cli.add_arguments,
        "apply escrow deposits (RFC 8909/9022) to a replica",
    ),
    (
        "credential",
        functools.partial(credential.run, load_policy=config.load_policy),
        credential.add_arguments,
        "issue, list and revoke access credentials",
    ),
    ("audit", audit.run, audit.add_arguments, "verify, export and report the disclosure log"),
    ("db", db_cli.run, db_cli.add_arguments, "create the schema of a PostgreSQL replica"),
)


def _add_demo(sub: Any) -> None:
    p = sub.add_parser("demo", help="write a deterministic synthetic demo registry")
    p.add_argument(
        "--out", type=Path, required=True, help="replica file (or directory for --format rde)"
    )
    p.add_argument("--domains", type=int, default=2_000, help="number of domains (default 2000)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument(
        "--format",
        choices=("sqlite", "rde"),
        default="sqlite",
        help="sqlite: a replica file; rde: escrow deposits (RFC 8909/9022) in a directory",
    )
    p.set_defaults(func=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    if args.domains < 8:
        raise RddsError("--domains: at least 8 (the showcase objects)")
    if args.format == "rde":
        for path in export.write_deposits(args.out, args.domains, args.seed):
            print(path)
        return 0
    demo.write(args.out, args.domains, args.seed, progress=demo.TerminalProgress())
    print(f"wrote {args.domains:,} domains to {args.out}")
    return 0


def _add_serve(sub: Any) -> None:
    p = sub.add_parser("serve", help="serve RDAP and WHOIS from a replica")
    src = p.add_mutually_exclusive_group()
    src.add_argument(
        "--replica",
        type=replica_open.parse,
        help="the replica file, or a postgresql:// URL (read-only)",
    )
    src.add_argument("--demo", action="store_true", help="serve a demo replica (built if absent)")
    p.add_argument("--config", type=Path, help="configuration and policy file (TOML)")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    # Ports are checked by the configuration (one line naming the flag), not by argparse.
    p.add_argument("--rdap-port", help="RDAP port (default 8080; 0 picks a free one)")
    p.add_argument("--whois-port", help="WHOIS port (default 4343; 0 picks a free one)")
    p.add_argument("--base-url", help="public base URL for links (default http://HOST:PORT/)")
    p.add_argument("--data-dir", type=Path, help="credentials and disclosure log directory")
    p.add_argument("--demo-domains", type=int, help="size of the --demo replica (default 2000)")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes sharing the ports (default 1; use the number of cores)",
    )
    p.set_defaults(func=_run_serve)


def _run_serve(args: argparse.Namespace) -> int:
    settings = _serve_settings(args)
    # SIGHUP re-reads the same sources in the same order (file, environment, these flags).
    source = str(args.config) if args.config else "(no configuration file)"
    return workers.run(settings, args.workers, functools.partial(_serve_settings, args), source)


def _serve_settings(args: argparse.Namespace) -> config.Settings:
    settings = config.load_file(args.config) if args.config else config.Settings()
    settings = config.apply_env(settings)
    if args.host:
        settings = replace(settings, host=args.host)
    if args.replica:
        settings = replace(settings, replica=args.replica, demo=False)
    if args.demo:
        settings = replace(settings, demo=True)
    if args.demo_domains:
        settings = replace(settings, demo_domains=args.demo_domains)
    if args.rdap_port is not None:
        port = config.parse_port(args.rdap_port, "--rdap-port")
        settings = replace(settings, rdap=replace(settings.rdap, port=port))
    if args.base_url:
        settings = replace(settings, rdap=replace(settings.rdap, base_url=args.base_url))
    if args.whois_port is not None:
        port = config.parse_port(args.whois_port, "--whois-port")
        settings = replace(settings, whois=replace(settings.whois, port=port))
    if args.data_dir:
        settings = replace(settings, auth=replace(settings.auth, data_dir=args.data_dir))
    if settings.replica is None and not settings.demo:
        raise RddsError("serve: give --replica PATH or --demo (or server.replica in the config)")
    return settings


def _add_answers(sub: Any) -> None:
    p = sub.add_parser(
        "answers",
        help="store every domain's anonymous answers in a SQLite replica, made under the "
        "configuration `rdds serve` is given (the same --config and flags)",
    )
    p.add_argument("--replica", type=Path, required=True, help="the SQLite replica file")
    p.add_argument("--config", type=Path, help="the configuration file `rdds serve` reads")
    p.add_argument("--host", help="as given to rdds serve (the default port-43 host name)")
    p.add_argument("--base-url", help="as given to rdds serve")
    p.add_argument("--rebuild", action="store_true", help="render every answer again")
    p.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="processes (default: the cores)"
    )
    p.add_argument("--quiet", action="store_true", help="print failures only")
    p.set_defaults(
        func=_run_answers,
        demo=False,
        demo_domains=None,
        rdap_port=None,
        whois_port=None,
        data_dir=None,
    )


def _run_answers(args: argparse.Namespace) -> int:
    settings = _serve_settings(args)
    if not isinstance(settings.replica, Path):
        raise RddsError("answers: --replica must be a SQLite replica file")
    last = [0.0]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if not args.quiet and (now - last[0] > 5 or done == total):
            last[0] = now
            print(f"rdds answers: {done:,} of {total:,} domains", file=sys.stderr)

    result = rdds_answers.build(
        settings.replica, settings, rebuild=args.rebuild, jobs=max(1, args.jobs), report=report
    )
    if not args.quiet:
        what = "rendered all again" if result.rebuilt else "added"
        print(
            f"rdds answers: {what}: {result.rendered:,} stored, {result.skipped:,} left to "
            f"lookups, {result.total:,} domains, {result.seconds:.1f} s",
            file=sys.stderr,
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    parser = argparse.ArgumentParser(
        prog="rdds", description="A registry's RDAP and WHOIS lookup service, private by default."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_demo(sub)
    _add_serve(sub)
    _add_answers(sub)
    for name, run, add_arguments, text in _DELEGATED:
        p = sub.add_parser(name, help=text)
        add_arguments(p)
        p.set_defaults(func=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `rdds` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # -v is about rdds: its own loggers (all under "rdds") go to DEBUG, while libraries
    # (asyncio, aiohttp, asyncpg, selenium's urllib3 ...) stay at INFO and keep their debug
    # output, which may carry request lines or peer addresses, out of the log.
    logging.getLogger("rdds").setLevel(logging.DEBUG if args.verbose else logging.NOTSET)
    try:
        result: int = args.func(args)
    except RddsError as exc:
        print(f"rdds: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except asyncio.CancelledError:
        return 130
    except Exception as exc:
        # A bug, not an operator error: still one line (the traceback with --verbose).
        logging.getLogger("rdds").debug("unexpected error", exc_info=True)
        print(
            f"rdds: unexpected error ({type(exc).__name__}); run with -v for details",
            file=sys.stderr,
        )
        return 1
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
