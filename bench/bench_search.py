"""Search cost against replica size: the same searches on demo replicas of several sizes.

    PYTHONPATH=. python bench/bench_search.py [--sizes 10000 1000000] [--dir DIR] [--rounds 7]

For each size a demo replica is built once (seed 1) under `--dir` and reused. Two measures
per search:

(a) SQLite virtual-machine steps of the store's index queries for that search (counted with
a progress handler): a deterministic measure of the work, independent of the
machine's load. For a fixed result count it must not grow with the replica size.
(b) Wall time of `Searcher.search` end to end (store queries, redaction of every result,
cursor), median of `--rounds` runs after one warm-up, in milliseconds. The machine these
numbers come from is shared: read (a) for the shape, (b) for the order of magnitude.

Nothing here is a test: docs/search.md quotes the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sqlite3
import statistics
import time
from pathlib import Path

from core.search import SearchSettings
from core.searcher import Searcher
from rdap import search as rsearch
from redaction.policy import Requester, default_policy
from replica import demo
from replica.store import REFERENCES_SQL, SEARCH_SQL, open_store

ANON = Requester.anonymous()
STAFF = Requester("registry-staff", "legalActions")

#: (label, path, params, requester, SEARCH_SQL queries with their arguments)
SEARCHES: list[
    tuple[str, str, list[tuple[str, str]], Requester, list[tuple[str, tuple[object, ...]]]]
] = [
    (
        "domains?name=exam*.coop",
        "domains",
        [("name", "exam*.coop")],
        ANON,
        [("domain.tld.name", ("exam", "exan", 1001, "coop"))],
    ),
    (
        "domains?name=example.*",
        "domains",
        [("name", "example.*")],
        ANON,
        [("domain.exact", ("example.coop",)), ("domain.exact", ("example.org",))],
    ),
    (
        "domains?name=مثا*.عراق",
        "domains",
        [("name", "مثا*.عراق")],
        ANON,
        [("domain.tld.uname", ("مثا", "مثب", 1001, "xn--mgbtx2b"))],
    ),
    (
        "domains?nsLdhName=ns1.example.coop",
        "domains",
        [("nsLdhName", "ns1.example.coop")],
        ANON,
        [("domain.host", ("ns1.example.coop", 1001))],
    ),
    (
        "domains?nsIp=45.142.220.11",
        "domains",
        [("nsIp", "45.142.220.11")],
        ANON,
        [("host.ip", ("45.142.220.11", 21)), ("domain.host", ("ns1.example.coop", 1001))],
    ),
    (
        "domains?nsLdhName=ns1.dns.alder-registrar.example (capped)",
        "domains",
        [("nsLdhName", "ns1.dns.alder-registrar.example")],
        ANON,
        [("domain.host", ("ns1.dns.alder-registrar.example", 1001))],
    ),
    (
        "nameservers?name=*.example.coop",
        "nameservers",
        [("name", "*.example.coop")],
        ANON,
        [("host.rname", ("coop.example.", "coop.example/", 1001))],
    ),
    (
        "entities?fn=Sami Calder (withheld)",
        "entities",
        [("fn", "Sami Calder")],
        ANON,
        [("contact.fn", ("sami calder", 100))],
    ),
    (
        "entities?fn=Sami Caldez (absent)",
        "entities",
        [("fn", "Sami Caldez")],
        ANON,
        [("contact.fn", ("sami caldez", 100))],
    ),
    (
        "entities?handle=EXCOOP-1",
        "entities",
        [("handle", "EXCOOP-1")],
        ANON,
        [("contact.handle", ("excoop-1", 100))],
    ),
    (
        "reverse_search?handle=EXORG-1 (staff)",
        "domains/reverse_search/entity",
        [("handle", "EXORG-1")],
        STAFF,
        [("contact.handle", ("exorg-1", 100)), ("domain.registrant", ("EXORG-1", 1001))],
    ),
]


def replica_path(folder: Path, size: int) -> Path:
    path = folder / f"bench-search-{size}.sqlite"
    if not path.exists():
        started = time.monotonic()
        print(f"building a {size:,}-domain demo replica at {path} ...", flush=True)
        demo.write(path, size, seed=1, progress=demo.TerminalProgress())
        print(f"  built in {time.monotonic() - started:.0f} s", flush=True)
    return path


def vm_steps(conn: sqlite3.Connection, sql: str, args: tuple[object, ...]) -> int:
    """Virtual-machine steps SQLite takes to run `sql` to its end."""
    counter = [0]

    def tick() -> int:
        counter[0] += 1
        return 0

    conn.set_progress_handler(tick, 1)
    try:
        rows = conn.execute(sql, args).fetchall()
        if sql.startswith("SELECT c.*"):
            # The entity window decides every candidate: its referencing domains are read too.
            for row in rows:
                conn.execute(REFERENCES_SQL, (row[0], 101)).fetchall()
    finally:
        conn.set_progress_handler(None, 0)
    return counter[0]


def _bind(sql: str, args: tuple[object, ...]) -> tuple[object, ...]:
    numbered = [int(n) for n in re.findall(r"\?(\d)", sql)]
    return args[: max(numbered)] if numbered else args


async def measure(path: Path, uri: str, rounds: int) -> dict[str, tuple[int, float, int]]:
    conn = sqlite3.connect(uri, uri=True)
    store = await open_store(path, pool_size=2)
    searcher = Searcher(store, default_policy(), SearchSettings(time_budget=600.0, secret="bench"))
    out: dict[str, tuple[int, float, int]] = {}
    try:
        for label, target, params, requester, queries in SEARCHES:
            steps = sum(vm_steps(conn, SEARCH_SQL[q], _bind(SEARCH_SQL[q], a)) for q, a in queries)
            request = rsearch.parse(target.split("/"), params).request
            page = await searcher.search(request, requester)  # warm-up
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                page = await searcher.search(request, requester)
                times.append((time.perf_counter() - started) * 1000)
            out[label] = (steps, statistics.median(times), len(page.hits))
    finally:
        await store.close()
        conn.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/rdds-bench"))
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    paths = {size: replica_path(args.dir, size) for size in args.sizes}
    results = {
        size: asyncio.run(measure(p, f"{p.resolve().as_uri()}?mode=ro", args.rounds))
        for size, p in paths.items()
    }
    header = (
        "| search | " + " | ".join(f"{s:,}: VM steps / ms / results" for s in args.sizes) + " |"
    )
    print()
    print(header)
    print("|---|" + "---|" * len(args.sizes))
    for label, *_ in SEARCHES:
        cells = []
        for size in args.sizes:
            steps, ms, hits = results[size][label]
            cells.append(f"{steps:,} / {ms:,.0f} / {hits}")
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
