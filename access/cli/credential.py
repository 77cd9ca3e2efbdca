"""`rdds credential add|list|revoke`: issue, show and revoke bearer-token credentials."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from access import credentials, disclosures, purposes
from access.cli import add_data_dir
from access.credentials import CredentialStore
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


#: Reads the policy of a configuration file (None: the built-in default policy). The
#: composition root supplies it, so this layer does not depend on the service settings.
PolicyLoader = Callable[[Path | None], Policy]


def run(args: argparse.Namespace, load_policy: PolicyLoader) -> int:
    """Run `rdds credential ACTION`."""
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
    _check_tier(tier, args.config, load_policy)
    disclosures.set_up(args.data_dir)  # a fresh directory starts its disclosure chain
    try:
        cred, token = credentials.issue(tier, args.org, allowed, _now(), expires)
    except ValueError as exc:
        raise RddsError(f"credential add: {exc}") from None
    CredentialStore(args.data_dir).add(cred)
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
    creds = CredentialStore(args.data_dir).load()
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
    cred = CredentialStore(args.data_dir).revoke(args.id, _now())
    assert cred.revoked is not None
    print(f"credential {cred.id} revoked at {credentials.format_time(cred.revoked)}")
    return 0
