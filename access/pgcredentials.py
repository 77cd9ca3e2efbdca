"""Locally issued credentials in PostgreSQL, shared by every node (I/O; the model is
`access.credentials`'s).

Table `credential` (`replica.pg_schema.ACCESS_DDL`): the same members as `credentials.json`,
times as RFC 3339 text to the second, purposes space-separated, the token's SHA-256 (never
the token) unique. Nodes look a token up by its hash on every request that carries one (one
indexed statement), so an `rdds credential add` or `revoke` on any machine takes effect on
every node at once, without a reload. The serving role only needs SELECT on it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from access import bearer
from access.credentials import Credential, format_time
from access.pgdb import DB_ERRORS, LOST, TIMEOUT, reason
from registry.errors import RddsError, Unavailable

log = logging.getLogger("rdds.access")

_COLUMNS = "id, tier, organisation, purposes, created, expires, revoked, token_sha256"
FIND_SQL = f"SELECT {_COLUMNS} FROM credential WHERE token_sha256 = $1"
ALL_SQL = f"SELECT {_COLUMNS} FROM credential ORDER BY created, id"
INSERT_SQL = f"INSERT INTO credential ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"


def _time(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)


def decode(row: Any) -> Credential:
    """A credential from its row; ValueError when a value is not well formed."""
    created = _time(row["created"])
    if created is None:
        raise ValueError("no creation time")
    return Credential(
        id=row["id"],
        tier=row["tier"],
        organisation=row["organisation"],
        purposes=tuple(str(row["purposes"]).split()),
        created=created,
        token_sha256=row["token_sha256"],
        expires=_time(row["expires"]),
        revoked=_time(row["revoked"]),
    )


def encode(cred: Credential) -> tuple[Any, ...]:
    """A credential's row values, in `_COLUMNS` order."""
    return (
        cred.id,
        cred.tier,
        cred.organisation,
        " ".join(cred.purposes),
        format_time(cred.created),
        format_time(cred.expires) if cred.expires else None,
        format_time(cred.revoked) if cred.revoked else None,
        cred.token_sha256,
    )


class PgCredentials:
    """The credentials a node checks tokens against, read from the database per request."""

    def __init__(self, pool: Any, where: str) -> None:
        self._pool = pool
        self._where = where

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        for attempt in (1, 2):
            try:
                async with self._pool.acquire(timeout=TIMEOUT) as conn:
                    rows: list[Any] = await conn.fetch(sql, *args)
                    return rows
            except LOST as exc:
                if attempt == 1:
                    continue  # a restarted server: the pooled connection was stale (a read)
                raise Unavailable(
                    f"credential store in {self._where}: cannot read: {reason(exc)}"
                ) from None
            except DB_ERRORS as exc:
                raise Unavailable(
                    f"credential store in {self._where}: cannot read: {reason(exc)}"
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def find(self, token: str) -> Credential | None:
        """The credential for a token; Unavailable when the database cannot be read.

        Security: fail closed. A row that cannot be decoded authorizes nobody."""
        digest = bearer.token_hash(token)
        rows = await self._fetch(FIND_SQL, digest)
        if not rows:
            return None
        try:
            cred = decode(rows[0])
        except (TypeError, ValueError) as exc:
            raise Unavailable(f"credential store in {self._where}: a bad row: {exc}") from None
        return cred if bearer.same_hash(cred.token_sha256, digest) else None

    async def all(self) -> tuple[Credential, ...]:
        """Every credential; Unavailable when unreadable."""
        try:
            return tuple(decode(r) for r in await self._fetch(ALL_SQL))
        except (TypeError, ValueError) as exc:
            raise Unavailable(f"credential store in {self._where}: a bad row: {exc}") from None


# --- the `rdds credential` commands (one connection, the operator's role) --------------------


async def load(conn: Any) -> tuple[Credential, ...]:
    """Every credential, oldest first."""
    return tuple(decode(r) for r in await conn.fetch(ALL_SQL))


async def add(conn: Any, cred: Credential) -> None:
    """Insert a new credential."""
    await conn.execute(INSERT_SQL, *encode(cred))


async def revoke(conn: Any, cred_id: str, now: dt.datetime) -> Credential:
    """Mark a credential revoked (kept as it is when it already is); RddsError when there is no
    such id."""
    async with conn.transaction():
        row = await conn.fetchrow(
            f"SELECT {_COLUMNS} FROM credential WHERE id = $1 FOR UPDATE", cred_id
        )
        if row is None:
            raise RddsError(f"credential: no credential with id {cred_id}")
        cred = decode(row)
        if cred.revoked is not None:
            return cred
        done = replace(cred, revoked=now)
        await conn.execute(
            "UPDATE credential SET revoked = $2 WHERE id = $1", cred_id, format_time(now)
        )
        return done


async def import_all(conn: Any, creds: Sequence[Credential]) -> tuple[int, int]:
    """Copy credentials from a file store: (added, already present). One transaction;
    RddsError, and nothing added, when an id or token hash is present with other values."""
    added = same = 0
    async with conn.transaction():
        for cred in creds:
            row = await conn.fetchrow(
                f"SELECT {_COLUMNS} FROM credential WHERE id = $1 OR token_sha256 = $2",
                cred.id,
                cred.token_sha256,
            )
            if row is None:
                await add(conn, cred)
                added += 1
            elif tuple(row) == encode(cred):
                same += 1
            else:
                raise RddsError(
                    f"credential import: {cred.id}: the database holds a different credential "
                    "with this id or token; nothing was imported"
                )
    return added, same
