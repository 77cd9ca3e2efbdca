"""Open the replica an operator named: a SQLite file path, or a `postgresql://` URL.

The one place that knows both stores; the composition root calls `check` early (a clear
line before any port is bound) and `open_replica` to get a `Store`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from replica import postgres
from replica.store import Store, check_readable, open_store


class OpenStore(Store, Protocol):
    """A store its opener closes."""

    async def close(self) -> None: ...


def parse(text: str) -> Path | str:
    """A replica setting as given: a PostgreSQL URL stays a string, anything else is a path."""
    return text if postgres.is_url(text) else Path(text)


def check(replica: Path | str) -> None:
    """Raise ReplicaError now for a replica file that cannot be served (a database is checked
    when it is opened)."""
    if isinstance(replica, Path):
        check_readable(replica)


async def open_replica(replica: Path | str, pool_size: int = 4) -> OpenStore:
    """Open a read-only store on the replica file or database."""
    if isinstance(replica, Path):
        return await open_store(replica, pool_size)
    return await postgres.open_store(replica, pool_size)
