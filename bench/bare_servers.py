"""The bare baselines of bench/serve_bench.py: the least a server can do for the same answer.

    python bench/bare_servers.py rdap ANSWER_FILE PORT    # aiohttp, any GET -> ANSWER_FILE
    python bench/bare_servers.py whois TEXT_FILE PORT     # asyncio, one line in -> TEXT_FILE

`rdap`: a plain aiohttp application (default event loop, no middleware, no access log) with
one catch-all route. ANSWER_FILE is JSON: {"headers": {...}, "body_file": PATH}, the headers
and body of a cached rdds answer, so both servers put the same bytes on the wire.
`whois`: an asyncio protocol that waits for the first line feed, writes the fixed text and
closes (RFC 3912: one query per connection). Both listen on 127.0.0.1 only and stop on
SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

from aiohttp import web


def rdap(answer_file: Path, port: int) -> None:
    spec = json.loads(answer_file.read_text(encoding="utf-8"))
    body = Path(spec["body_file"]).read_bytes()
    headers = dict(spec["headers"])

    async def handle(_request: web.Request) -> web.Response:
        return web.Response(body=body, headers=headers)

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


class _Bare(asyncio.Protocol):
    def __init__(self, text: bytes) -> None:
        self.text = text
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if b"\n" in data and self.transport is not None:
            self.transport.write(self.text)
            self.transport.close()
            self.transport = None


async def _whois(text: bytes, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Bare(text), "127.0.0.1", port, backlog=1024)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in ("rdap", "whois"):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    kind, path, port = argv[0], Path(argv[1]), int(argv[2])
    if kind == "rdap":
        rdap(path, port)
    else:
        asyncio.run(_whois(path.read_bytes(), port))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
