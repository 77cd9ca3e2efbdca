"""Memory stays bounded with 5,000 idle connections open (slow: about 5 s).

The responder runs in its own process so its resident set is measured alone. Per-connection
growth is asserted below a generous bound and printed (run with `-s` to see it).
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

from tests.whois_support import ask, replica_path

__all__ = ["replica_path"]

ROOT = Path(__file__).resolve().parents[2]
IDLE = 5_000
#: Upper bound per idle connection (kernel socket buffers are not in the RSS).
MAX_BYTES_PER_CONNECTION = 16 * 1024


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def connect_many(port: int, n: int) -> list[socket.socket]:
    loop = asyncio.get_running_loop()
    out: list[socket.socket] = []

    async def one() -> None:
        s = socket.socket()
        s.setblocking(False)
        out.append(s)
        await loop.sock_connect(s, ("127.0.0.1", port))

    for start in range(0, n, 500):
        await asyncio.gather(*(one() for _ in range(min(500, n - start))))
    return out


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
async def test_rss_growth_per_idle_connection(replica_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bench" / "whois_server_proc.py"),
        str(replica_path),
        "read_timeout=120",
        f"max_connections={IDLE * 2}",
        f"max_per_address={IDLE * 2}",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    held: list[socket.socket] = []
    try:
        assert proc.stdout is not None
        port = int(await asyncio.wait_for(proc.stdout.readline(), 30))
        # Warm up: imports, caches and one answer, so the baseline is steady.
        for _ in range(20):
            await ask(port, b"example.org\r\n")
        await asyncio.sleep(0.2)
        base_rss, base_fds = rss(proc.pid), open_fds(proc.pid)
        held = await connect_many(port, IDLE)
        for _ in range(500):
            if open_fds(proc.pid) >= base_fds + IDLE:
                break
            await asyncio.sleep(0.02)
        assert open_fds(proc.pid) >= base_fds + IDLE
        # Still answering while 5,000 clients sit idle.
        assert (await ask(port, b"example.coop\r\n")).startswith(b"Domain Name: example.coop")
        per = (rss(proc.pid) - base_rss) / IDLE
        print(f"RSS growth per idle connection: {per:.0f} bytes")
        assert per < MAX_BYTES_PER_CONNECTION
    finally:
        for s in held:
            s.close()
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()
