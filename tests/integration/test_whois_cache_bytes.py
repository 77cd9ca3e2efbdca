"""The port-43 answer cache is bounded in bytes, whatever the answers' sizes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from core.lookup import Lookup
from redaction.policy import default_policy
from replica.store import SqliteStore
from whois43 import protocol
from whois43.server import CACHE_ENTRY_OVERHEAD, WhoisServer
from whois43.settings import WhoisSettings


async def test_whois_cache_bound_in_bytes(store: SqliteStore, demo_replica: Path) -> None:
    conn = sqlite3.connect(demo_replica)
    names = [r[0] for r in conn.execute("SELECT name FROM domain ORDER BY name LIMIT 40")]
    conn.close()
    bound = 20_000
    server = WhoisServer(Lookup(store, default_policy()), WhoisSettings(), cache_bytes=bound)
    for name in names:
        await server.complete(protocol.parse_query(name.encode()))
        assert server.cache.currsize <= bound
    held = list(server.cache.values())
    assert 0 < len(held) < len(names)
    assert server.cache.currsize == sum(len(v.body) + CACHE_ENTRY_OVERHEAD for v in held)
