"""Locally issued credentials: the model and its JSON form (pure), and the store file (I/O).

The store is `credentials.json` in the data directory (never in the replica), mode 0600,
replaced atomically (write a temporary file, fsync, rename) under an exclusive lock on
`credentials.lock`, so concurrent `rdds credential add` runs never lose each other's work
and a running server always reads a whole file. The server re-reads it when its inode, size
or modification time changes. It holds token hashes only, never a token.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from access import bearer
from redaction.policy import ANONYMOUS, PURPOSES
from registry.errors import ConfigError, RddsError, Unavailable

FILE = "credentials.json"
LOCK = "credentials.lock"
VERSION = 1
TIER_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")


@dataclass(frozen=True, slots=True)
class Credential:
    """One issued credential (the token itself is never kept)."""

    id: str
    tier: str
    organisation: str
    purposes: tuple[str, ...]
    created: dt.datetime
    token_sha256: str
    expires: dt.datetime | None = None
    revoked: dt.datetime | None = None

    def state(self, now: dt.datetime) -> str:
        """ "active", "expired" or "revoked"."""
        if self.revoked is not None:
            return "revoked"
        if self.expires is not None and now >= self.expires:
            return "expired"
        return "active"


def check_tier_name(name: str) -> str:
    """A tier name's shape (lower-case letters, digits, hyphens); ValueError otherwise."""
    if not TIER_NAME.match(name) or name == ANONYMOUS:
        raise ValueError(
            f"tier {name!r}: expected lower-case letters, digits and hyphens "
            "(at most 32, starting with a letter), not 'anonymous'"
        )
    return name


def parse_expiry(text: str) -> dt.datetime:
    """--expires: a date (valid through that day, UTC) or an RFC 3339 date-time; ValueError."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError(f"{text!r}: give a time zone (e.g. Z) or a plain date")
    return when.astimezone(dt.UTC)


def new_id() -> str:
    """A short credential id (not secret; it goes into the disclosure log)."""
    return "cred-" + secrets.token_hex(6)


def issue(
    tier: str,
    organisation: str,
    purposes: tuple[str, ...],
    now: dt.datetime,
    expires: dt.datetime | None = None,
) -> tuple[Credential, str]:
    """A new credential and its token (shown once, then only its hash exists)."""
    check_tier_name(tier)
    if not organisation.strip():
        raise ValueError("give the organisation the credential is for")
    unknown = [p for p in purposes if p not in PURPOSES]
    if not purposes or unknown:
        raise ValueError(f"not RDAP purposes: {', '.join(unknown) or '(none)'}")
    if expires is not None and expires <= now:
        raise ValueError("the expiry is in the past")
    token = bearer.new_token()
    cred = Credential(
        id=new_id(),
        tier=tier,
        organisation=organisation.strip(),
        purposes=purposes,
        created=now,
        token_sha256=bearer.token_hash(token),
        expires=expires,
    )
    return cred, token


def format_time(value: dt.datetime) -> str:
    """RFC 3339 UTC to the second."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(value: dt.datetime | None) -> str | None:
    return None if value is None else format_time(value)


def _parse_time(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("expected a time")
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)


def encode(creds: tuple[Credential, ...]) -> bytes:
    """The store file's content."""
    items = [
        {
            "id": c.id,
            "tier": c.tier,
            "organisation": c.organisation,
            "purposes": list(c.purposes),
            "created": _time(c.created),
            "expires": _time(c.expires),
            "revoked": _time(c.revoked),
            "token_sha256": c.token_sha256,
        }
        for c in creds
    ]
    return json.dumps({"version": VERSION, "credentials": items}, indent=1).encode() + b"\n"


def decode(raw: bytes) -> tuple[Credential, ...]:
    """Parse the store file; ValueError names what is wrong."""
    data = json.loads(raw)
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise ValueError(f"not a version {VERSION} credential store")
    items = data.get("credentials")
    if not isinstance(items, list):
        raise ValueError("credentials: expected a list")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValueError(f"credentials[{i}]: expected an object")
        try:
            created = _parse_time(item["created"])
            assert created is not None
            purposes = item["purposes"]
            if not isinstance(purposes, list) or not all(isinstance(p, str) for p in purposes):
                raise ValueError("purposes: expected a list of strings")
            for key in ("id", "tier", "organisation", "token_sha256"):
                if not isinstance(item[key], str):
                    raise ValueError(f"{key}: expected a string")
            out.append(
                Credential(
                    id=item["id"],
                    tier=item["tier"],
                    organisation=item["organisation"],
                    purposes=tuple(purposes),
                    created=created,
                    token_sha256=item["token_sha256"],
                    expires=_parse_time(item.get("expires")),
                    revoked=_parse_time(item.get("revoked")),
                )
            )
        except (KeyError, ValueError, AssertionError) as exc:
            raise ValueError(f"credentials[{i}]: {exc}") from None
    return tuple(out)


def find(creds: Mapping[str, Credential], token: str) -> Credential | None:
    """The credential whose hash matches the token (dict lookup on the hash, then a
    constant-time comparison of the stored value)."""
    digest = bearer.token_hash(token)
    cred = creds.get(digest)
    if cred is not None and bearer.same_hash(cred.token_sha256, digest):
        return cred
    return None


# --- the file ----------------------------------------------------------------------------


def ensure_dir(path: Path) -> None:
    """Create the data directory (0700) if needed."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot create the data directory: {exc.strerror}") from None
    if not path.is_dir():
        raise ConfigError(f"{path}: not a directory")


def write_atomic(path: Path, content: bytes) -> None:
    """Replace a file with new content, mode 0600, durably (fsync file and directory)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on a lock file (serialises writers across processes)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


class CredentialStore:
    """The credential file in a data directory: read (cached until it changes) and update."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILE
        self._lock = data_dir / LOCK
        self._stamp: tuple[int, int, int] | None = None
        self._by_hash: dict[str, Credential] = {}
        self._all: tuple[Credential, ...] = ()

    def load(self) -> tuple[Credential, ...]:
        """Every credential (an absent file is an empty store); RddsError when unreadable."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self._stamp, self._by_hash, self._all = None, {}, ()
            return ()
        except OSError as exc:
            raise Unavailable(f"credential store: {exc.strerror}") from None
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        if stamp != self._stamp:
            try:
                creds = decode(self.path.read_bytes())
            except (OSError, ValueError) as exc:
                # Fail closed: a store we cannot read authorizes nobody (a revocation
                # might be in the part we cannot read).
                raise Unavailable(f"credential store {self.path} is unreadable: {exc}") from None
            self._all = creds
            self._by_hash = {c.token_sha256: c for c in creds}
            self._stamp = stamp
        return self._all

    def lookup(self, token: str) -> Credential | None:
        """The credential for a token, re-reading the file when it changed."""
        self.load()
        return find(self._by_hash, token)

    async def find(self, token: str) -> Credential | None:
        """`lookup`, as the access layer asks every credential source (a small file read)."""
        return self.lookup(token)

    def add(self, cred: Credential) -> None:
        """Append a credential (under the lock, atomically)."""
        with locked(self._lock):
            self._write((*self.load(), cred))

    def revoke(self, cred_id: str, now: dt.datetime) -> Credential:
        """Mark a credential revoked; RddsError when there is no such id."""
        with locked(self._lock):
            creds = self.load()
            for i, c in enumerate(creds):
                if c.id == cred_id:
                    if c.revoked is not None:
                        return c
                    done = replace(c, revoked=now)
                    self._write((*creds[:i], done, *creds[i + 1 :]))
                    return done
        raise RddsError(f"credential: no credential with id {cred_id}")

    def _write(self, creds: tuple[Credential, ...]) -> None:
        write_atomic(self.path, encode(creds))
        self._stamp = None  # re-read next time
