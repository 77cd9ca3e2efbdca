"""The contact form's rules: signed time-limited form tokens, address syntax, message limits.
Pure, no I/O: the caller passes the clock reading and the key.

A form token binds the form to one domain and role, to the moment it was shown, and to a
random nonce that only the browser holds, in an HttpOnly SameSite=Strict cookie (a signed
double submit): a page on another site can neither read the token nor send the cookie, so
it cannot post the form in a visitor's name (CSRF). The token also proves the form was shown
at least `min_age` seconds ago (a person reads before writing) and at most `max_age`.
"""

from __future__ import annotations

import base64
import hmac
import re
from dataclasses import dataclass
from typing import TypeGuard

from registry import names
from registry.errors import BadQuery, Forbidden, InvalidName
from registry.model import ContactRole

#: RFC 5321 §4.5.3.1: 64 octets of local part, 254 of path (less the angle brackets).
MAX_LOCAL = 64
MAX_ADDRESS = 254

# RFC 5322 §3.2.3 dot-atom: atext characters, dots only between them. No quoted strings and
# no comments: an address a person types into a form does not need them.
_DOT_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

#: Role words the form accepts: the RDAP role values (what `{role}` puts in the policy's
#: contact-form URL) and the short forms people type.
ROLES: dict[str, ContactRole] = {
    "registrant": ContactRole.REGISTRANT,
    "administrative": ContactRole.ADMIN,
    "admin": ContactRole.ADMIN,
    "technical": ContactRole.TECH,
    "tech": ContactRole.TECH,
    "billing": ContactRole.BILLING,
}


class BadAddress(BadQuery):
    """Enter your email address (name@example.org) so the recipient can reply."""


class BadRole(BadQuery):
    """The contact role must be registrant, admin or tech."""


class BadSubject(BadQuery):
    """Enter a subject."""


class BadMessage(BadQuery):
    """Enter a message."""


class MessageTooLong(BadQuery):
    """The message is too long."""

    status = 413
    title = "Content Too Large"


class FormExpired(BadQuery):
    """This form has expired. A fresh one is below: please send again."""


class FormTooFast(BadQuery):
    """That was sent too quickly after the form was shown. Please check it and send again."""


class BadToken(Forbidden):
    """This form could not be verified. Open the contact form again from the lookup page."""


def role(text: str) -> ContactRole:
    """The contact role a form URL names."""
    found = ROLES.get(text.strip().lower())
    if found is None:
        raise BadRole()
    return found


def role_word(value: ContactRole) -> str:
    """The short role word used in the form's own URLs."""
    return {
        ContactRole.REGISTRANT: "registrant",
        ContactRole.ADMIN: "admin",
        ContactRole.TECH: "tech",
        ContactRole.BILLING: "billing",
    }[value]


def address(text: str) -> str:
    """A mail address as typed into the form, checked and with an A-label domain."""
    text = text.strip()
    if not text or len(text) > MAX_ADDRESS or text.count("@") != 1:
        raise BadAddress()
    local, _, domain = text.partition("@")
    if not local or len(local) > MAX_LOCAL or not _DOT_ATOM.match(local):
        raise BadAddress()
    try:
        name = names.from_text(domain)
    except InvalidName:
        raise BadAddress() from None
    if len(name.labels) < 2:
        raise BadAddress()
    out = f"{local}@{name.ldh}"
    if len(out) > MAX_ADDRESS:
        raise BadAddress()
    return out


def is_address(text: str) -> bool:
    """True when `address` accepts the text unchanged in form (for stored addresses)."""
    try:
        address(text)
    except BadAddress:
        return False
    return True


def _controls(text: str, allowed: str = "") -> bool:
    return any(
        (ord(c) < 0x20 and c not in allowed) or 0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029"
        for c in text
    )


def subject(text: str, max_chars: int) -> str:
    """A one-line subject: no line breaks or control characters (header injection)."""
    text = " ".join(text.split())
    if not text or _controls(text):
        raise BadSubject()
    if max_chars and len(text) > max_chars:
        raise MessageTooLong(f"The subject is longer than {max_chars} characters.")
    return text


def message(text: str, max_chars: int) -> str:
    """The message body with LF line ends; tabs and line breaks are its only controls."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text or _controls(text, "\t\n"):
        raise BadMessage()
    if max_chars and len(text) > max_chars:
        raise MessageTooLong(f"The message is longer than {max_chars} characters.")
    return text


# --- keys, tokens, hashes ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Keys:
    """Keys derived from the one server secret, one per use."""

    token: bytes
    sender_hash: bytes

    def __repr__(self) -> str:
        return "Keys(...)"  # security: never print key material

    @classmethod
    def derive(cls, secret: bytes) -> Keys:
        """Independent keys for form tokens and for sender hashes."""
        return cls(
            token=hmac.digest(secret, b"rdds web: form token", "sha256"),
            sender_hash=hmac.digest(secret, b"rdds web: sender hash", "sha256"),
        )


def _mac(
    key: bytes, domain: str, role_value: ContactRole, issued: int, form_id: str, nonce: str
) -> str:
    msg = f"form\0{domain}\0{role_value.value}\0{issued}\0{form_id}\0{nonce}".encode()
    digest = hmac.digest(key, msg, "sha256")
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def issue(
    keys: Keys, domain: str, role_value: ContactRole, nonce: str, now: float, form_id: str
) -> str:
    """A token for one form: `ISSUED.FORM_ID.MAC`. The MAC covers the browser's cookie
    nonce, which the page itself never shows."""
    issued = int(now)
    return f"{issued}.{form_id}.{_mac(keys.token, domain, role_value, issued, form_id, nonce)}"


@dataclass(frozen=True, slots=True)
class Token:
    """A verified token: its MAC identifies it (single use) until `expires`."""

    mac: str
    expires: float


def verify(
    keys: Keys,
    token: str,
    *,
    domain: str,
    role_value: ContactRole,
    cookie_nonce: str | None,
    now: float,
    min_age: float,
    max_age: float,
) -> Token:
    """Check a posted token against the form's domain and role and the browser's cookie."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not _NONCE.match(parts[1]):
        raise BadToken()
    if cookie_nonce is None or not _NONCE.match(cookie_nonce):
        raise BadToken()  # CSRF: a post without this browser's cookie
    issued, form_id, mac = int(parts[0]), parts[1], parts[2]
    expected = _mac(keys.token, domain, role_value, issued, form_id, cookie_nonce)
    # Security: constant-time comparison; another cookie, domain, role or time fails here.
    if not hmac.compare_digest(mac.encode("ascii", "replace"), expected.encode("ascii")):
        raise BadToken()
    age = now - issued
    if age > max_age or age < -5:
        raise FormExpired()
    if age < min_age:
        raise FormTooFast()
    return Token(mac=expected, expires=issued + max_age)


def sender_hash(keys: Keys, sender: str) -> str:
    """A keyed hash of a sender's address for the relay record: comparable (the same address
    gives the same hash), not reversible without the server secret."""
    return hmac.new(keys.sender_hash, sender.lower().encode("utf-8"), "sha256").hexdigest()


def nonce_ok(text: str | None) -> TypeGuard[str]:
    """True when a cookie value has the shape of a nonce this server issues."""
    return text is not None and bool(_NONCE.match(text))
