"""Port-43 throughput: our responder against a bare asyncio responder, same run, loopback.

    PYTHONPATH=. python bench/bench_whois.py [--replica PATH] [--rounds 5] [--queries 2000]

(a) `whois43` on a demo replica (rate limits and caps lifted for the load generator), with
its answer cache, and once more with the cache off (every query is a replica lookup);
(b) a bare asyncio responder that reads one line and returns a fixed text of the same mean
size. Each server runs in its own process; rounds alternate between them. The load is a
fixed mix of showcase names, random demo domains, name servers and addresses, sent over a
new TCP connection each (RFC 3912), by `--concurrency` client tasks.
Reports median queries per second per server, the ratio ours/bare (target >= 0.6) and p50/p99
latency per query (connect to close).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHOWCASE = [
    "example.coop",
    "unverified.coop",
    "example.org",
    "consent.org",
    "journalist.org",
    "suspended.cx",
    "pending.gs",
    "مثال.عراق",
    "ns1.example.coop",
    "45.142.220.11",
    "registrar 9100",
    "nosuchname.coop",
]

BARE = r"""
import asyncio, sys
BODY = b"x" * (int(sys.argv[1]) - 2) + b"\r\n"
class Bare(asyncio.Protocol):
    def connection_made(self, t):
        self.t = t
    def data_received(self, data):
        if b"\n" in data:
            self.t.write(BODY)
            self.t.close()
async def main():
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(Bare, "127.0.0.1", 0, backlog=1024)
    print(srv.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    loop.add_reader(sys.stdin.fileno(), stop.set)
    await stop.wait()
asyncio.run(main())
"""


def queries(replica: Path, n: int, seed: int = 1) -> list[bytes]:
    """The fixed query mix: 1/4 showcase and lookups of other kinds, 3/4 random demo domains."""
    conn = sqlite3.connect(f"{replica.resolve().as_uri()}?mode=ro", uri=True)
    names = [r[0] for r in conn.execute("SELECT name FROM domain ORDER BY name")]
    conn.close()
    rng = random.Random(seed)
    sample = rng.sample(names, min(500, len(names)))
    out = []
    for i in range(n):
        q = SHOWCASE[i % len(SHOWCASE)] if i % 4 == 0 else rng.choice(sample)
        out.append(q.encode() + b"\r\n")
    return out


async def one(port: int, query: bytes) -> tuple[float, int]:
    t0 = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(query)
    body = await reader.read()
    writer.close()
    return time.perf_counter() - t0, len(body)


async def load(port: int, qs: list[bytes], concurrency: int) -> tuple[float, list[float], int]:
    """Send every query once; return (queries per second, latencies, bytes received)."""
    it = iter(qs)
    lat: list[float] = []
    total = 0

    async def worker() -> None:
        nonlocal total
        for q in it:
            dt, size = await one(port, q)
            lat.append(dt)
            total += size

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(qs) / (time.perf_counter() - t0), lat, total


async def spawn(*args: str) -> tuple[asyncio.subprocess.Process, int]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    port = int(await proc.stdout.readline())
    return proc, port


async def stop(proc: asyncio.subprocess.Process) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    await proc.wait()


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))] * 1000


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replica", type=Path, default=Path("/tmp/bench-whois.sqlite"))
    ap.add_argument("--domains", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=16)
    args = ap.parse_args()
    if not args.replica.exists():
        from replica import demo

        demo.write(args.replica, args.domains, seed=1)
    qs = queries(args.replica, args.queries)
    open_limits = [
        "rate_per_second=1000000000",
        "rate_burst=1000000000",
        "max_connections=100000",
        "max_per_address=100000",
    ]
    ours, ours_port = await spawn("bench/whois_server_proc.py", str(args.replica), *open_limits)
    nocache, nocache_port = await spawn(
        "bench/whois_server_proc.py", str(args.replica), *open_limits, "cache_entries=1"
    )
    # The bare responder returns the mean size of our answers to this mix.
    _, _, total = await load(ours_port, qs, args.concurrency)  # also warms our cache
    size = max(3, total // len(qs))
    bare, bare_port = await spawn("-c", BARE, str(size))
    try:
        await load(bare_port, qs[:200], args.concurrency)  # warm-up
        await load(nocache_port, qs[:200], args.concurrency)
        results: dict[str, list[float]] = {"ours": [], "ours-nocache": [], "bare": []}
        lats: dict[str, list[float]] = {k: [] for k in results}
        for r in range(args.rounds):
            for name, port in (
                ("ours", ours_port),
                ("bare", bare_port),
                ("ours-nocache", nocache_port),
            ):
                qps, lat, _ = await load(port, qs, args.concurrency)
                results[name].append(qps)
                lats[name] += lat
                print(f"round {r + 1} {name:13} {qps:8.0f} q/s", flush=True)
    finally:
        for proc in (ours, nocache, bare):
            await stop(proc)
    med = {k: statistics.median(v) for k, v in results.items()}
    print()
    print(f"queries per round {len(qs)}, concurrency {args.concurrency}, answer size {size} B")
    for name in ("bare", "ours", "ours-nocache"):
        print(
            f"{name:13} median {med[name]:8.0f} q/s   p50 {pct(lats[name], 50):6.2f} ms"
            f"   p99 {pct(lats[name], 99):6.2f} ms"
        )
    print(f"ratio ours/bare          {med['ours'] / med['bare']:.2f}  (target >= 0.6)")
    print(f"ratio ours-nocache/bare  {med['ours-nocache'] / med['bare']:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
