"""bench/wrk_paths.lua driven by the real wrk against a loopback server that records paths.

The benchmark's figures rest on this script asking for the driver's paths in order (random
names never asked twice in a run), each thread from its own share of the file, and printing
one JSON line the driver reads. No timing is asserted here: the load is one or two
connections for a second.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.realclient.conftest import ROOT, require

SCRIPT = ROOT / "bench" / "wrk_paths.lua"


async def _run(paths: Path, *, threads: int, connections: int) -> tuple[int, str, list[str]]:
    """Run wrk for one second against a server that records each request's path: its exit
    status, its output and the paths asked for."""
    wrk = require("wrk")
    seen: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        proc = await asyncio.create_subprocess_exec(
            wrk,
            f"-t{threads}",
            f"-c{connections}",
            "-d1s",
            "-s",
            str(SCRIPT),
            f"http://127.0.0.1:{server.port}",
            "--",
            str(paths),
            str(threads),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    finally:
        await server.close()
    assert proc.returncode is not None
    return proc.returncode, (out + err).decode(), seen


async def _wrk(paths: Path, *, threads: int, connections: int) -> tuple[list[str], dict[str, int]]:
    """`_run`, which must succeed: the paths asked for and the script's summary line."""
    status, output, seen = await _run(paths, threads=threads, connections=connections)
    assert status == 0, output
    line = [x for x in output.splitlines() if x.startswith("{")][-1]
    return seen, json.loads(line)


async def test_one_thread_walks_the_file_in_order_and_wraps(tmp_path: Path) -> None:
    paths = tmp_path / "paths.txt"
    paths.write_text("/domain/a.example\n/domain/b.example\n\n/domain/c.example\n")
    seen, summary = await _wrk(paths, threads=1, connections=1)
    cycle = ["/domain/a.example", "/domain/b.example", "/domain/c.example"]
    assert len(seen) > 6
    # wrk asks the script for one request to check it before sending any, so the first
    # request sent is the file's second path; the blank line is not a path.
    assert seen == [cycle[(i + 1) % 3] for i in range(len(seen))]
    assert 0 <= len(seen) - summary["requests"] <= 1  # one may be in flight at the end
    assert summary["status"] == summary["connect"] == summary["read"] == 0
    assert summary["p50_us"] <= summary["p99_us"] <= summary["max_us"]


async def test_each_thread_starts_at_its_share(tmp_path: Path) -> None:
    paths = tmp_path / "paths.txt"
    # Paths of different lengths (the shares are counted in lines, not bytes), more than two
    # connections ask for in a second (no wrap, so the two streams stay apart).
    names = [f"/domain/n{i}{'x' * (i % 7)}.example" for i in range(1, 40_001)]
    paths.write_text("".join(f"{name}\n" for name in names))
    seen, summary = await _wrk(paths, threads=2, connections=2)
    # Each thread asks for consecutive lines: every path seen follows its predecessor in the
    # file, in the same thread's stream, so no line is skipped or asked twice before a wrap.
    position = {name: i for i, name in enumerate(names)}
    streams: list[list[int]] = []
    for path in seen:
        i = position[path]
        for stream in streams:
            if (stream[-1] + 1) % len(names) == i:
                stream.append(i)
                break
        else:
            streams.append([i])
    # Thread 0 from the top (its first path went to wrk's check), thread 1 from line 20,001.
    assert sorted(s[0] for s in streams) == [1, 20_000]
    assert max(len(s) for s in streams) < 20_000  # no wrap: the check above means something
    assert summary["requests"] > 10


async def test_a_file_without_paths_fails(tmp_path: Path) -> None:
    paths = tmp_path / "paths.txt"
    paths.write_text("\n\n")
    status, output, seen = await _run(paths, threads=1, connections=1)
    assert status != 0
    assert "no path in" in output
    assert seen == []
