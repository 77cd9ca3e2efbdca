"""OpenID Connect access tokens (RFC 9560): issuer settings and claim checks (pure), and
the JWKS cache (I/O: a file, or a URL fetched with a timeout and cached).

A token is accepted only when its `iss` is a configured issuer, its signature verifies with
a key from that issuer's JWKS using an asymmetric algorithm the issuer allows (never
"none", never HMAC: a public JWKS key must not double as a shared secret), and its `aud`,
`exp` (and `nbf`, `iat` when present) check out. Purposes come from the
`rdap_allowed_purposes` claim, the tier from the issuer's configured tier claim.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import jwt

from redaction.policy import PURPOSES
from registry.errors import ConfigError, Forbidden, Unauthorized, Unavailable

log = logging.getLogger("rdds.access")

#: Asymmetric JWS algorithms only (RFC 7518 §3.1); "none" and HS* are refused.
SAFE_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
_KEYS = {
    "issuer",
    "audience",
    "jwks",
    "tier_claim",
    "organisation_claim",
    "name",
    "algorithms",
    "cache_seconds",
    "timeout_seconds",
}
_REQUIRED = ("issuer", "audience", "jwks")
LEEWAY = 30  # seconds of clock skew tolerated on exp / nbf / iat


@dataclass(frozen=True, slots=True)
class Issuer:
    """One trusted OpenID Provider."""

    issuer: str
    audience: str
    jwks: str  # https:// or http:// URL, or a file path
    tier_claim: str = "rdds_tier"
    organisation_claim: str = "org"
    name: str = ""
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    cache_seconds: float = 300.0
    timeout_seconds: float = 5.0

    @property
    def jwks_is_url(self) -> bool:
        """True when the JWKS is fetched over HTTP(S)."""
        return self.jwks.startswith(("https://", "http://"))


def parse_issuers(items: tuple[Mapping[str, Any], ...]) -> tuple[Issuer, ...]:
    """Validate `[[auth.oidc_issuers]]` tables; ConfigError names the entry and key."""
    out: list[Issuer] = []
    for i, item in enumerate(items):
        where = f"auth.oidc_issuers[{i}]"
        for key in item:
            if key not in _KEYS:
                allowed = ", ".join(sorted(_KEYS))
                raise ConfigError(f"{where}.{key}: unknown key (allowed: {allowed})")
        for key in _REQUIRED:
            if not isinstance(item.get(key), str) or not item[key]:
                raise ConfigError(f"{where}.{key}: required (a non-empty string)")
        kw: dict[str, Any] = {k: item[k] for k in ("issuer", "audience", "jwks")}
        for key in ("tier_claim", "organisation_claim", "name"):
            if key in item:
                if not isinstance(item[key], str) or not item[key]:
                    raise ConfigError(f"{where}.{key}: expected a non-empty string")
                kw[key] = item[key]
        if "algorithms" in item:
            raw = item["algorithms"]
            algs = raw.split(",") if isinstance(raw, str) else raw
            if not isinstance(algs, list | tuple) or not all(isinstance(a, str) for a in algs):
                raise ConfigError(f"{where}.algorithms: expected a list of JWS algorithms")
            algs = [a.strip() for a in algs if a.strip()]
            bad = [a for a in algs if a not in SAFE_ALGORITHMS]
            if bad or not algs:
                raise ConfigError(
                    f"{where}.algorithms: {', '.join(bad) or '(none)'} not allowed "
                    f"(asymmetric only: {', '.join(SAFE_ALGORITHMS)})"
                )
            kw["algorithms"] = tuple(algs)
        for key in ("cache_seconds", "timeout_seconds"):
            if key in item:
                try:
                    value = float(item[key])
                except (TypeError, ValueError):
                    raise ConfigError(f"{where}.{key}: expected a number of seconds") from None
                if value <= 0:
                    raise ConfigError(f"{where}.{key}: expected a positive number")
                kw[key] = value
        issuer = Issuer(**kw)
        if any(o.issuer == issuer.issuer for o in out):
            raise ConfigError(f"{where}.issuer: {issuer.issuer} is configured twice")
        out.append(issuer)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Identity:
    """What a verified token says about its holder."""

    subject: str
    issuer: str
    tier: str
    organisation: str | None
    purposes: frozenset[str]


def identity(claims: Mapping[str, Any], issuer: Issuer) -> Identity:
    """The holder's identity from verified claims; ValueError names a missing grant."""
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise ValueError("The token has no subject (sub claim).")
    tier = claims.get(issuer.tier_claim)
    if not isinstance(tier, str) or not tier:
        raise ValueError(f"The token has no tier ({issuer.tier_claim} claim).")
    raw = claims.get("rdap_allowed_purposes")
    # RFC 9560 §3.1.5.1: an array of purpose strings; values outside the registry are ignored.
    if not isinstance(raw, list):
        raise ValueError("The token allows no RDAP purpose (rdap_allowed_purposes claim).")
    purposes = frozenset(p for p in raw if isinstance(p, str) and p in PURPOSES)
    if not purposes:
        raise ValueError("The token allows no RDAP purpose (rdap_allowed_purposes claim).")
    org = claims.get(issuer.organisation_claim)
    return Identity(
        subject=sub,
        issuer=issuer.issuer,
        tier=tier,
        organisation=org if isinstance(org, str) and org else None,
        purposes=purposes,
    )


def help_member(issuers: tuple[Issuer, ...]) -> dict[str, Any]:
    """RFC 9560 §4.1 `farv1_openidcConfiguration` for /help."""
    providers: list[dict[str, Any]] = [
        {"iss": i.issuer, "name": i.name or i.issuer} for i in issuers
    ]
    if len(providers) == 1:
        providers[0]["default"] = True
    return {
        "farv1_openidcConfiguration": {
            # Every disclosure is recorded, so "do not track" (rdap_dnt_allowed) is refused.
            "dntSupported": False,
            # Tokens only: this server runs no session-oriented login (farv1_session/...).
            "endUserIdentifierDiscoverySupported": False,
            "issuerIdentifierSupported": False,
            "implicitTokenRefreshSupported": False,
            "openidcProviders": providers,
        }
    }


# --- verification (I/O for the keys) --------------------------------------------------------


class KeySource:
    """One issuer's JWKS: read from a file (re-read when it changes) or fetched and cached."""

    #: Do not refetch a URL more often than this to look for an unknown key id.
    MIN_REFETCH = 30.0

    def __init__(self, issuer: Issuer) -> None:
        self.issuer = issuer
        self._keys: jwt.PyJWKSet | None = None
        self._fetched = 0.0
        self._stamp: tuple[int, int] | None = None
        self._lock = asyncio.Lock()

    async def key(self, kid: str | None) -> jwt.PyJWK:
        """The key for a token's `kid` (or the only key when the token names none)."""
        keys = await self._load(refresh=False)
        found = _pick(keys, kid)
        if found is None and self.issuer.jwks_is_url:
            keys = await self._load(refresh=True)
            found = _pick(keys, kid)
        if found is None:
            raise Unauthorized("The token is not signed by a key of its issuer.")
        return found

    async def _load(self, refresh: bool) -> jwt.PyJWKSet:
        if not self.issuer.jwks_is_url:
            return self._file()
        async with self._lock:
            age = time.monotonic() - self._fetched
            stale = self._keys is None or age > self.issuer.cache_seconds
            if stale or (refresh and age > self.MIN_REFETCH):
                try:
                    self._keys = await self._fetch()
                    self._fetched = time.monotonic()
                except (aiohttp.ClientError, TimeoutError, ValueError, jwt.PyJWKSetError) as exc:
                    log.warning(
                        "JWKS of %s unavailable: %s", self.issuer.issuer, type(exc).__name__
                    )
                    if self._keys is None:
                        raise Unavailable("The token issuer's keys cannot be fetched.") from None
                    # Stale keys stay usable while the issuer is unreachable.
            assert self._keys is not None
            return self._keys

    async def _fetch(self) -> jwt.PyJWKSet:
        timeout = aiohttp.ClientTimeout(total=self.issuer.timeout_seconds)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(self.issuer.jwks, allow_redirects=False) as resp,
        ):
            if resp.status != 200:
                raise ValueError(f"HTTP {resp.status}")
            body = await resp.content.read(1024 * 1024)
        return jwt.PyJWKSet.from_dict(json.loads(body))

    def _file(self) -> jwt.PyJWKSet:
        path = Path(self.issuer.jwks)
        try:
            st = os.stat(path)
            stamp = (st.st_size, st.st_mtime_ns)
            if self._keys is None or stamp != self._stamp:
                self._keys = jwt.PyJWKSet.from_dict(json.loads(path.read_bytes()))
                self._stamp = stamp
        except (OSError, ValueError, jwt.PyJWKSetError) as exc:
            log.error("JWKS file %s unreadable: %s", path, type(exc).__name__)
            if self._keys is None:
                raise Unavailable("The token issuer's keys cannot be read.") from None
        assert self._keys is not None
        return self._keys


def _pick(keys: jwt.PyJWKSet, kid: str | None) -> jwt.PyJWK | None:
    usable = [k for k in keys.keys if getattr(k, "public_key_use", None) in (None, "sig")]
    if kid is None:
        return usable[0] if len(usable) == 1 else None
    return next((k for k in usable if k.key_id == kid), None)


class Verifier:
    """Checks OpenID Connect access tokens against the configured issuers."""

    def __init__(self, issuers: tuple[Issuer, ...]) -> None:
        self.issuers = issuers
        self._sources = {i.issuer: KeySource(i) for i in issuers}

    async def verify(self, token: str) -> Identity:
        """The verified identity; Unauthorized for any bad token, with no token text."""
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise Unauthorized("The bearer token is not valid.") from None
        iss = unverified.get("iss")
        source = self._sources.get(iss) if isinstance(iss, str) else None
        if source is None:
            raise Unauthorized("The token's issuer is not trusted here.")
        issuer = source.issuer
        alg = header.get("alg")
        # Security: the algorithm is pinned by configuration, never taken from the token.
        if alg not in issuer.algorithms:
            raise Unauthorized("The token's signature algorithm is not accepted.")
        kid = header.get("kid")
        key = await source.key(kid if isinstance(kid, str) else None)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=list(issuer.algorithms),
                audience=issuer.audience,
                issuer=issuer.issuer,
                leeway=LEEWAY,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The token has expired.") from None
        except jwt.InvalidSignatureError:
            raise Unauthorized("The token's signature does not verify.") from None
        except jwt.InvalidAudienceError:
            raise Unauthorized("The token is not meant for this server (audience).") from None
        except jwt.PyJWTError:
            raise Unauthorized("The bearer token is not valid.") from None
        try:
            return identity(claims, issuer)
        except ValueError as exc:
            # A genuine token that grants nothing here: the holder is known, not allowed.
            raise Forbidden(str(exc)) from None
