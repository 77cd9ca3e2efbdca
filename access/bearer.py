"""Bearer tokens (RFC 6750): the Authorization header, local token shape and hashing. Pure.

Tokens issued by `rdds credential add` are "rdds_" and 43 URL-safe base64 characters (256
random bits); only their SHA-256 is stored. Anything else presented as a bearer token is
treated as an OpenID Connect access token (a JWT) when issuers are configured.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from registry.errors import Unauthorized

PREFIX = "rdds_"
#: RFC 6750 §2.1 b64token characters.
_B64TOKEN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=")
MAX_TOKEN = 8192


def parse_authorization(values: list[str]) -> str | None:
    """The bearer token from the Authorization header values; None when there is none.

    Security: the messages never repeat the header (it may hold a secret).
    """
    if not values:
        return None
    if len(values) > 1:
        raise Unauthorized("Send exactly one Authorization header.")
    scheme, _, token = values[0].strip().partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthorized("Only Bearer authorization is supported (RFC 6750).")
    token = token.strip()
    if not token or len(token) > MAX_TOKEN or not set(token) <= _B64TOKEN:
        raise Unauthorized("The bearer token is malformed.")
    return token


def is_local(token: str) -> bool:
    """True for a token issued by `rdds credential add`."""
    return token.startswith(PREFIX)


def new_token() -> str:
    """A fresh local token: 256 random bits."""
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the credential store keeps instead of the token (hex SHA-256).

    A plain hash suffices: tokens are 256-bit random, so there is nothing to brute-force.
    """
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def same_hash(a: str, b: str) -> bool:
    """Constant-time comparison of two token hashes."""
    return hmac.compare_digest(a.encode("ascii"), b.encode("ascii"))
