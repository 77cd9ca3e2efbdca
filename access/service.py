"""Authorized access for the RDAP front-end: identify requesters from bearer tokens (local
credentials or OpenID Connect) and record every disclosure before it is sent. I/O glue; the
decisions are in `bearer`, `purposes`, `oidc` and `chain`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

from access import bearer, chain, disclosures, oidc
from access import purposes as purposes_mod
from access.credentials import Credential, CredentialStore
from access.disclosures import DisclosureLog
from access.settings import AuthSettings
from redaction.policy import Policy, Requester
from registry.errors import ConfigError, Forbidden, RddsError, Unauthorized, Unavailable

log = logging.getLogger("rdds.access")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class AuthorizedAccess:
    """The `access.protocol.Access` implementation behind `rdds serve --data-dir`."""

    def __init__(
        self,
        store: CredentialStore,
        disclosures: DisclosureLog,
        policy: Policy,
        verifier: oidc.Verifier | None = None,
        clock: Callable[[], dt.datetime] = _now,
    ) -> None:
        self.store = store
        self.disclosures = disclosures
        self.policy = policy
        self.verifier = verifier
        self._clock = clock

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
                cred = self.store.lookup(token)
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
        credential keep failing closed until the file is fixed)."""
        try:
            creds = self.store.load()
        except RddsError as exc:
            raise ConfigError(exc.message) from None
        for cred in unknown_tiers(creds, policy):
            log.warning(
                "credential %s has tier %r, which the policy does not define: it will be refused",
                cred.id,
                cred.tier,
            )
        self.policy = policy


def unknown_tiers(creds: tuple[Credential, ...], policy: Policy) -> list[Credential]:
    """Usable credentials whose tier the policy does not define (they will get 403)."""
    return [c for c in creds if c.revoked is None and policy.tier(c.tier) is None]


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
    for cred in unknown_tiers(creds, policy):
        log.warning(
            "credential %s has tier %r, which the policy does not define: it will be refused",
            cred.id,
            cred.tier,
        )
    issuers = oidc.parse_issuers(settings.oidc_issuers)
    verifier = oidc.Verifier(issuers) if issuers else None
    return AuthorizedAccess(store, DisclosureLog(settings.data_dir), policy, verifier)
