"""Run the port-43 responder alone in this process, for benches and the idle-connection test.

Usage: python bench/whois_server_proc.py REPLICA [KEY=VALUE ...]
KEY is a WhoisSettings field, or `cache_bytes` (the answer cache bound in bytes;
`cache_entries=1`, the older spelling, means 1 byte: no cache).
Prints the bound port on stdout, then serves until stdin closes or SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from dataclasses import fields
from pathlib import Path

from core.lookup import Lookup
from redaction.policy import default_policy
from replica.store import open_store
from whois43 import server as whois_server
from whois43.settings import WhoisSettings


def settings(args: list[str]) -> tuple[WhoisSettings, int]:
    types = {f.name: type(getattr(WhoisSettings(), f.name)) for f in fields(WhoisSettings)}
    values: dict[str, object] = {"port": 0}
    cache = whois_server.DEFAULT_CACHE_BYTES
    for arg in args:
        key, _, value = arg.partition("=")
        if key in ("cache_bytes", "cache_entries"):
            cache = int(value)
        else:
            values[key] = types[key](value)
    return WhoisSettings(**values), cache  # type: ignore[arg-type]


async def main() -> None:
    store = await open_store(Path(sys.argv[1]))
    whois_settings, cache = settings(sys.argv[2:])
    lookup = Lookup(store, default_policy())
    server = await whois_server.start(lookup, whois_settings, "127.0.0.1", cache_bytes=cache)
    print(server.port, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_reader(
        sys.stdin.fileno(), lambda: stop.set() if not sys.stdin.buffer.read1(1) else None
    )
    await stop.wait()
    await server.close()
    await store.close()


if __name__ == "__main__":
    asyncio.run(main())
