"""Authorized access for the RDAP front-end: identify requesters from bearer tokens (local
credentials or OpenID Connect) and record every disclosure before it is sent. I/O glue; the
decisions are in `bearer`, `purposes`, `oidc` and `chain`.

Credentials and the log live in a data directory (`build`: `credentials`, `disclosures`) or,
shared by every node, in PostgreSQL (`open_database`: `pgcredentials`, `pglog`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from access import bearer, chain, disclosures, oidc, pgdb
from access import purposes as purposes_mod
from access.credentials import Credential, CredentialStore
from access.disclosures import DisclosureLog
from access.pgcredentials import PgCredentials
from access.pglog import PgDisclosureLog
from access.settings import AuthSettings
from redaction.policy import Policy, Requester
from registry.errors import ConfigError, Forbidden, RddsError, Unauthorized, Unavailable

log = logging.getLogger("rdds.access")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Credentials(Protocol):
    """Where local credentials are looked up: the data directory's file or the database."""

    async def find(self, token: str) -> Credential | None:
        """The credential for a token; Unavailable when the store cannot be read."""
        ...


class Log(Protocol):
    """Where disclosures are recorded: the data directory's file or the database."""

    def stamp(self) -> dt.datetime:
        """The time for a new record."""
        ...

    async def append(self, disclosure: chain.Disclosure) -> dict[str, Any]:
        """Record durably; Unavailable when it cannot."""
        ...


class AuthorizedAccess:
    """The `access.protocol.Access` implementation behind `rdds serve --data-dir` (or a
    PostgreSQL replica)."""

    def __init__(
        self,
        store: Credentials,
        disclosures: Log,
        policy: Policy,
        verifier: oidc.Verifier | None = None,
        clock: Callable[[], dt.datetime] = _now,
        closer: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.store = store
        self.disclosures = disclosures
        self.policy = policy
        self.verifier = verifier
        self._clock = clock
        self._closer = closer
        self._checks: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        """Close the database pool, if any."""
        for task in list(self._checks):
            task.cancel()
        if self._closer is not None:
            await self._closer()

    async def identify(self, authorization: Sequence[str], purposes: Sequence[str]) -> Requester:
        """Anonymous without an Authorization header; otherwise a verified requester.

        Security: neither the token nor the header is ever logged or echoed.
        """
        token = bearer.parse_authorization(list(authorization))
        org: str | None
        issuer: str | None
        if token is None:
            return Requester.anonymous()
        if bearer.is_local(token):
            try:
                cred = await self.store.find(token)
            except Unavailable as exc:
                # Security: the store's error names its path and may quote its content; the
                # log gets it, the requester does not.
                log.error("%s", exc.message)
                raise Unavailable(
                    "The credential store cannot be read; no credential can be checked now."
                ) from None
            if cred is None:
                raise Unauthorized("The bearer token is not valid.")
            state = cred.state(self._clock())
            if state == "revoked":
                raise Unauthorized("The credential has been revoked.")
            if state == "expired":
                raise Unauthorized("The credential has expired.")
            tier, allowed = cred.tier, frozenset(cred.purposes)
            cred_id, org, issuer = cred.id, cred.organisation, None
        elif self.verifier is not None:
            who = await self.verifier.verify(token)
            tier, allowed = who.tier, who.purposes
            cred_id, org, issuer = who.subject, who.organisation, who.issuer
        else:
            raise Unauthorized("The bearer token is not valid.")
        if self.policy.tier(tier) is None:
            raise Forbidden(
                f"The credential's tier {tier!r} is not configured on this server; "
                "ask the registry to correct the credential or its policy."
            )
        purpose = purposes_mod.select(allowed, list(purposes))
        return Requester(
            tier=tier, purpose=purpose, credential_id=cred_id, organisation=org, issuer=issuer
        )

    async def record(
        self, requester: Requester, object_ref: str, fields: tuple[str, ...], body: bytes
    ) -> None:
        """Append the disclosure record and fsync it; Unavailable (503) when it cannot."""
        await self.disclosures.append(
            chain.Disclosure(
                time=self.disclosures.stamp(),
                credential=requester.credential_id,
                organisation=requester.organisation,
                tier=requester.tier,
                purpose=requester.purpose,
                issuer=requester.issuer,
                object=object_ref,
                fields=fields,
                body_sha256=hashlib.sha256(body).hexdigest(),
            )
        )

    def help_members(self) -> dict[str, Any]:
        """RFC 9560 `farv1_openidcConfiguration` when OpenID Connect is configured."""
        if self.verifier is None:
            return {}
        return oidc.help_member(self.verifier.issuers)

    def extensions(self) -> tuple[str, ...]:
        """ "farv1" when OpenID Connect is configured."""
        return ("farv1",) if self.verifier is not None else ()

    def reload(self, policy: Policy) -> None:
        """Re-read the credential store and take `policy` (SIGHUP). ConfigError naming the
        store when it cannot be read; then nothing here changes (and requests with a local
        credential keep failing closed until the file is fixed).

        Credentials in the database are read on every token request, so there is nothing to
        re-read: their tiers are checked against `policy` in the background (a warning per
        credential the policy refuses), and an unreachable database does not refuse the
        reload (token requests fail closed until it returns)."""
        if isinstance(self.store, PgCredentials):
            task = asyncio.get_running_loop().create_task(_warn_later(self.store, policy))
            self._checks.add(task)
            task.add_done_callback(self._checks.discard)
        elif isinstance(self.store, CredentialStore):
            try:
                creds = self.store.load()
            except RddsError as exc:
                raise ConfigError(exc.message) from None
            _warn(creds, policy)
        self.policy = policy


def unknown_tiers(creds: tuple[Credential, ...], policy: Policy) -> list[Credential]:
    """Usable credentials whose tier the policy does not define (they will get 403)."""
    return [c for c in creds if c.revoked is None and policy.tier(c.tier) is None]


def _warn(creds: tuple[Credential, ...], policy: Policy) -> None:
    for cred in unknown_tiers(creds, policy):
        log.warning(
            "credential %s has tier %r, which the policy does not define: it will be refused",
            cred.id,
            cred.tier,
        )


async def _warn_later(store: PgCredentials, policy: Policy) -> None:
    try:
        _warn(await store.all(), policy)
    except Unavailable as exc:
        log.error("%s; token requests are refused until it can be read", exc.message)


async def open_database(url: str, settings: AuthSettings, policy: Policy) -> AuthorizedAccess:
    """The access layer with credentials and the disclosure log in the PostgreSQL database at
    `url` (the primary), shared by every node; the OIDC issuers as `build`'s.

    Starts while the database is unreachable or lacks the tables (one error line): token
    requests then get 503, anonymous answers go on, and the next request tries again.
    """
    where = pgdb.redact_url(url)
    issuers = oidc.parse_issuers(settings.oidc_issuers)
    try:
        pool = await pgdb.create_pool(url)
    except ValueError as exc:
        raise ConfigError(f"auth database {where}: {pgdb.reason(exc)}") from None
    store = PgCredentials(pool, where)
    try:
        async with pool.acquire(timeout=pgdb.TIMEOUT) as conn:
            missing = await pgdb.missing_tables(conn)
        if missing:
            log.error(
                "auth database %s has no credential and disclosure tables (run rdds db init); "
                "token requests are refused until it has",
                where,
            )
        else:
            _warn(await store.all(), policy)
    except Unavailable as exc:
        log.error("%s; token requests are refused until it can be read", exc.message)
    except ValueError as exc:  # asyncpg parses the URL at the first connection
        pool.terminate()
        raise ConfigError(f"auth database {where}: {pgdb.reason(exc)}") from None
    except pgdb.DB_ERRORS as exc:
        log.error(
            "auth database %s: cannot connect (%s); token requests are refused until it can",
            where,
            pgdb.reason(exc),
        )

    async def close() -> None:
        try:
            await asyncio.wait_for(pool.close(), pgdb.TIMEOUT)
        except pgdb.DB_ERRORS:
            pool.terminate()

    verifier = oidc.Verifier(issuers) if issuers else None
    return AuthorizedAccess(store, PgDisclosureLog(pool, where), policy, verifier, closer=close)


def build(settings: AuthSettings, policy: Policy) -> AuthorizedAccess:
    """The access layer for a data directory (created if missing) and the OIDC issuers."""
    if settings.data_dir is None:
        raise ConfigError("authorized access needs a data directory (--data-dir)")
    disclosures.set_up(settings.data_dir)
    if disclosures.missing_anchor(settings.data_dir):
        log.error(
            "disclosure log in %s: the anchor is missing (deleted?); disclosures are refused "
            "until an operator has checked the log (rdds audit verify)",
            settings.data_dir,
        )
    store = CredentialStore(settings.data_dir)
    try:
        creds = store.load()
    except RddsError as exc:
        raise ConfigError(exc.message) from None
    if store.path.exists() and store.path.stat().st_mode & 0o077:
        log.warning("credential store %s is readable by others; chmod 600 it", store.path)
    _warn(creds, policy)
    issuers = oidc.parse_issuers(settings.oidc_issuers)
    verifier = oidc.Verifier(issuers) if issuers else None
    return AuthorizedAccess(store, DisclosureLog(settings.data_dir), policy, verifier)
