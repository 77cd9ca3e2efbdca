"""Opaque paging cursors (RFC 8977 §2.4): sealed so a client can neither read nor forge them.
Pure: the caller passes the key, the clock reading and the nonce source.

A cursor carries where the next page starts (the sort key of the last object sent), the page
number, the replica generation and an expiry, encrypted and authenticated with AES-GCM under
a server secret. The search it belongs to — the query, the sort order, the requester's tier
and purpose — is the AEAD's associated data: not stored in the token, but any change to it
(another pattern, another sort, a cursor handed from an authorized requester to the public)
makes the token fail to open. Security: a cursor can only ever resume the search it was made
for, for the requester it was made for; it cannot widen what the policy lets that requester
see, because every page is decided afresh.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from registry.errors import BadCursor

VERSION = "1"
#: Longest token accepted (checked before any decoding work).
MAX_TOKEN = 2048
_NONCE = 12


@dataclass(frozen=True, slots=True)
class Binding:
    """The search a cursor belongs to: authenticated, never stored in the token."""

    query: str  # canonical search (kind, property, pattern, role)
    sort: str  # canonical sort ("name:a")
    tier: str
    purpose: str | None

    def data(self) -> bytes:
        """The associated data the token is authenticated with."""
        return json.dumps(
            ["rdds-cursor", VERSION, self.query, self.sort, self.tier, self.purpose],
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()


@dataclass(frozen=True, slots=True)
class Position:
    """Where the next page starts."""

    #: The sort key of the last object of the previous page (its tie-breaker included).
    after: tuple[str, ...]
    #: The number of the page this cursor opens (2 for the first page's next link).
    page: int
    #: The replica generation the previous page was computed from.
    generation: int
    #: Unix time after which the cursor is refused.
    expires: int


def key_from_secret(secret: str | bytes) -> bytes:
    """A 256-bit AES key derived from the configured secret (any length)."""
    raw = secret.encode() if isinstance(secret, str) else secret
    return hashlib.sha256(b"rdds cursor key v1\x00" + raw).digest()


def seal(position: Position, binding: Binding, key: bytes, nonce: Callable[[int], bytes]) -> str:
    """The opaque token for `position` in the search `binding` (URL-safe, no padding)."""
    payload = json.dumps(
        {
            "a": list(position.after),
            "p": position.page,
            "g": position.generation,
            "e": position.expires,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    iv = nonce(_NONCE)
    sealed = AESGCM(key).encrypt(iv, payload, binding.data())
    return VERSION + base64.urlsafe_b64encode(iv + sealed).decode().rstrip("=")


def open_(token: str, binding: Binding, key: bytes, now: float) -> Position:
    """The position sealed in `token`; BadCursor (400) when the token was not made by this
    server for this search and requester, is damaged, or has expired."""
    if len(token) > MAX_TOKEN or not token.startswith(VERSION):
        raise BadCursor()
    body = token[len(VERSION) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise BadCursor() from None
    if len(raw) <= _NONCE:
        raise BadCursor()
    try:
        payload = AESGCM(key).decrypt(raw[:_NONCE], raw[_NONCE:], binding.data())
    except InvalidTag:
        # Security: forged, damaged, or made for another search, sort or requester.
        raise BadCursor() from None
    try:
        data = json.loads(payload)
        after = tuple(str(v) for v in data["a"])
        position = Position(after, int(data["p"]), int(data["g"]), int(data["e"]))
    except (ValueError, KeyError, TypeError):  # pragma: no cover - authenticated by us
        raise BadCursor() from None
    if position.expires < now:
        raise BadCursor("The paging cursor has expired; repeat the search without it.")
    if position.page < 2:
        raise BadCursor()  # pragma: no cover - never sealed by us
    return position
