"""The access layer's PostgreSQL connections (I/O): a small read-write pool on the primary for
the shared credentials (`access.pgcredentials`) and disclosure log (`access.pglog`), the
errors that mean "not reachable now", and paging a table's rows to sync code in a thread.

Separate from the replica's pool (`replica.postgres`): that one reads, perhaps from a standby,
in read-only sessions; this one appends to the primary. Connecting is lazy (the pool starts
empty), so a node starts while the database is away and fails closed until it returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import asyncpg

from replica import postgres
from replica.postgres import redact_url

#: Seconds an access query may wait for a pooled connection or the server (then 503).
TIMEOUT = 5.0

#: The server ends the session of a node that vanished in the middle of an append after this
#: long (milliseconds): its lock on the log's head would otherwise stall every node's appends.
IDLE_IN_TRANSACTION_MS = "10000"

#: Errors that mean the connection was lost (a restarted server): when one happens before the
#: first write nothing can have been written, so one retry on a fresh connection is safe. The
#: driver's InternalClientError is what the first query on a connection the server closed
#: meanwhile meets ("another operation is in progress").
LOST: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.OperatorInterventionError,
    asyncpg.InternalClientError,
    OSError,
)

#: Everything "the database cannot be used now" means (503, never a 500).
DB_ERRORS: tuple[type[BaseException], ...] = (*postgres.DB_ERRORS, asyncpg.InternalClientError)

__all__ = ["DB_ERRORS", "LOST", "TIMEOUT", "create_pool", "reason", "redact_url", "rows_in_thread"]


async def create_pool(url: str, size: int = 4) -> Any:
    """A bounded, initially empty asyncpg pool for the access tables at `url`."""
    return await asyncpg.create_pool(
        url,
        min_size=0,
        max_size=size,
        command_timeout=TIMEOUT,
        timeout=TIMEOUT,
        server_settings={
            "application_name": "rdds-access",
            "idle_in_transaction_session_timeout": IDLE_IN_TRANSACTION_MS,
        },
    )


def reason(exc: BaseException) -> str:
    """One line about a database error (driver messages name hosts and roles, not rows)."""
    text = str(exc).splitlines()[0][:120] if str(exc) else ""
    return text or type(exc).__name__


async def missing_tables(conn: Any) -> bool:
    """True when the database lacks the access tables (`rdds db init` creates them)."""
    found = await conn.fetchval(
        "SELECT to_regclass('credential') IS NOT NULL AND to_regclass('disclosure') IS NOT NULL "
        "AND to_regclass('disclosure_head') IS NOT NULL"
    )
    return not found


def rows_in_thread(
    loop: asyncio.AbstractEventLoop, page: Callable[[int], Coroutine[Any, Any, Any]]
) -> Iterator[Any]:
    """Rows for sync code running in a worker thread while `loop` runs: `page(after)` fetches
    the rows after key `after` (in key order, the key in column 0, empty when done) on `loop`.
    Bounded memory: one page at a time, however long the log."""
    after = -(2**63)  # BIGINT's least: a row keyed 0 or below is read (and refused) too
    while True:
        rows = asyncio.run_coroutine_threadsafe(page(after), loop).result()
        if not rows:
            return
        yield from rows
        after = rows[-1][0]
