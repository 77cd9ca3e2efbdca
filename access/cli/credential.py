"""`rdds credential add|list|revoke|import`: issue, show and revoke bearer-token credentials,
in a data directory or in PostgreSQL (shared by every node); copy a data directory's into
PostgreSQL."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from access import credentials, disclosures, pgcredentials, purposes
from access.cli import add_data_dir, add_move_arguments, on_database, target
from access.credentials import Credential, CredentialStore
from redaction.policy import Policy
from registry.errors import ConfigError, RddsError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The subcommands of `rdds credential`."""
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = sub.add_parser("add", help="issue a credential and print its token once")
    add_data_dir(add)
    add.add_argument("--tier", required=True, help="policy tier, e.g. law-enforcement")
    add.add_argument("--org", required=True, help="the organisation the credential is for")
    add.add_argument(
        "--purposes", required=True, help="comma-separated RFC 9560 purposes it may state"
    )
    add.add_argument("--expires", help="last valid day (YYYY-MM-DD, UTC) or an RFC 3339 date-time")
    add.add_argument(
        "--config", help="check the tier against this configuration/policy file's tiers"
    )
    lst = sub.add_parser("list", help="list credentials (never their tokens)")
    add_data_dir(lst)
    rev = sub.add_parser("revoke", help="revoke a credential by id")
    add_data_dir(rev)
    rev.add_argument("id", help="the credential id (from `rdds credential list`)")
    imp = sub.add_parser(
        "import", help="copy a data directory's credentials into PostgreSQL (once, when moving)"
    )
    add_move_arguments(imp)


#: Reads the policy of a configuration file (None: the built-in default policy). The
#: composition root supplies it, so this layer does not depend on the service settings.
PolicyLoader = Callable[[Path | None], Policy]


def run(args: argparse.Namespace, load_policy: PolicyLoader) -> int:
    """Run `rdds credential ACTION`."""
    if args.action == "import":
        return _import(args)
    if args.action == "add":
        return _add(args, load_policy)
    action: Any = {"list": _list, "revoke": _revoke}[args.action]
    result: int = action(args)
    return result


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _add(args: argparse.Namespace, load_policy: PolicyLoader) -> int:
    try:
        tier = credentials.check_tier_name(args.tier)
        allowed = purposes.parse_list(args.purposes)
        expires = credentials.parse_expiry(args.expires) if args.expires else None
    except ValueError as exc:
        raise RddsError(f"credential add: {exc}") from None
    where = target(args, "credential add")
    _check_tier(tier, args.config, load_policy)
    if isinstance(where, Path):
        disclosures.set_up(where)  # a fresh directory starts its disclosure chain
    try:
        cred, token = credentials.issue(tier, args.org, allowed, _now(), expires)
    except ValueError as exc:
        raise RddsError(f"credential add: {exc}") from None
    if isinstance(where, Path):
        CredentialStore(where).add(cred)
    else:
        on_database(where, "credential add", lambda conn: pgcredentials.add(conn, cred))
    until = f", expires {credentials.format_time(cred.expires)}" if cred.expires else ""
    print(
        f"credential {cred.id}: tier {cred.tier}, organisation {cred.organisation}, "
        f"purposes {','.join(cred.purposes)}{until}"
    )
    print("The token is shown only now; only its hash is stored. Token:")
    print(token)
    return 0


def _check_tier(tier: str, config: str | None, load_policy: PolicyLoader) -> None:
    policy = load_policy(Path(config) if config else None)
    if policy.tier(tier) is None:
        known = ", ".join(sorted(policy.tiers))
        if config:
            raise ConfigError(f"credential add: {config} defines no tier {tier!r} ({known})")
        print(
            f"rdds: warning: the default policy has no tier {tier!r} ({known}); the server "
            "refuses the credential unless its policy defines it",
            file=sys.stderr,
        )


def _list(args: argparse.Namespace) -> int:
    where = target(args, "credential list")
    creds: tuple[Credential, ...]
    if isinstance(where, Path):
        creds = CredentialStore(where).load()
    else:
        creds = on_database(where, "credential list", pgcredentials.load)
    now = _now()
    header = ("id", "tier", "organisation", "purposes", "created", "expires", "revoked")
    rows = [
        (
            c.id,
            c.tier,
            c.organisation,
            ",".join(c.purposes),
            credentials.format_time(c.created),
            credentials.format_time(c.expires) + (" (expired)" if c.state(now) == "expired" else "")
            if c.expires
            else "-",
            credentials.format_time(c.revoked) if c.revoked else "-",
        )
        for c in creds
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def _revoke(args: argparse.Namespace) -> int:
    where = target(args, "credential revoke")
    now = _now()
    if isinstance(where, Path):
        cred = CredentialStore(where).revoke(args.id, now)
    else:
        cred = on_database(
            where, "credential revoke", lambda conn: pgcredentials.revoke(conn, args.id, now)
        )
    assert cred.revoked is not None
    print(f"credential {cred.id} revoked at {credentials.format_time(cred.revoked)}")
    return 0


def _import(args: argparse.Namespace) -> int:
    where = target(args, "credential import")
    assert isinstance(where, str)
    if not args.data_dir.is_dir():
        raise RddsError(f"credential import: {args.data_dir}: not a directory")
    creds = CredentialStore(args.data_dir).load()
    added, same = on_database(
        where, "credential import", lambda conn: pgcredentials.import_all(conn, creds)
    )
    print(f"credential import: {added} added, {same} already there")
    return 0
