"""Serving benchmark: `rdds serve` against bare baselines, interleaved rounds, one run.

    apt-get install wrk                      # the HTTP load generator (Debian package)
    .venv/bin/python bench/serve_bench.py [--domains 1000000] [--rounds 5] [--seconds 5]
        [--workers 2] [--only rdap-cached,rdap-random,...] [--set rdap.key=VALUE ...]

It builds (once) or reuses the demo replica of `--domains` names and one of `--small-domains`
names under `--cache-dir` (default `$XDG_CACHE_HOME/rdds/bench`, else `~/.cache/rdds/bench`),
the file named after size, seed and replica schema (version and a digest of its DDL), so a
schema change builds a new one. It starts the real `rdds serve` on free 127.0.0.1 ports with
a generated configuration that lifts the per-client limits, and the bare baselines of
`bench/bare_servers.py` returning the very bytes of one cached rdds answer. Each round runs
every figure's pair, the rdds side first, then the baseline (A, B, A, B, ...), each for a
fixed duration. RDAP load: wrk with `bench/wrk_paths.lua`; port 43: a closed-loop asyncio
generator, one query per connection (RFC 3912). "Random names" walk the replica's domain
names in a shuffled order, never asking one twice, so the answer caches do not help.

Figures (ratio = rdds / baseline of the medians over rounds, goal beside it):
  rdap-cached      RDAP, one name again (answer cache hit) vs the bare aiohttp app  >= 0.8
  rdap-random      RDAP, random names, 1 worker vs the bare aiohttp app             >= 0.25
  rdap-random-wN   the same with `rdds serve --workers N` (skipped without the flag) >= 0.4
  whois-cached     port 43, one name again vs the bare asyncio responder      (no goal)
  whois-random     port 43, random names vs the bare asyncio responder               >= 0.35
  p99-scale        RDAP p99 at random names, big replica vs small, answer cache at its
                   minimum on both so that the small replica is not served from it  <= 1.5
  rss              peak RSS of each rdds process while the rounds run (from /proc)   < 200 MB

Beside each ratio: the cores each server kept busy and its CPU time per answer (from /proc).
On a shared machine a side that got a smaller share of the CPU looks slower; the CPU ratio
(baseline µs per answer / rdds µs per answer) is what one saturated process of each would
reach, whatever its share (not meaningful with workers); for p99-scale it is the CPU per
answer on the big replica over the small one (1.0: size costs nothing).

`--rdds-b CMD` measures a second rdds (another commit's code) in the same rounds: every
figure but p99-scale gets a FIGURE@b row, run right after its A row (A, bare, B, bare), so
the two versions see the same machine; e.g. `--rdds-b "env PYTHONPATH=/tmp/old
$PWD/.venv/bin/python -P -m rdds"` with the old commit unpacked to /tmp/old.

Writes a table to stdout and everything measured to bench/out/serve-*.json (git-ignored),
server logs to bench/out/logs-*/; `--show FILE` prints a saved run's tables again.
Only 127.0.0.1; every load stops by itself after `--seconds`.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime as dt
import fcntl
import functools
import hashlib
import itertools
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
LUA = ROOT / "bench" / "wrk_paths.lua"
BARE = ROOT / "bench" / "bare_servers.py"
HOST = "127.0.0.1"
MB = 1024 * 1024

#: figure -> (what is compared, goal operator, goal value)
GOALS: dict[str, tuple[str, float]] = {
    "rdap-cached": (">=", 0.8),
    "rdap-random": (">=", 0.25),
    "rdap-random-w": (">=", 0.4),
    "whois-cached": ("", 0.0),
    "whois-random": (">=", 0.35),
    "p99-scale": ("<=", 1.5),
}
RSS_GOAL_MB = 200.0
FIGURES = (
    "rdap-cached",
    "rdap-random",
    "rdap-random-w",
    "whois-cached",
    "whois-random",
    "p99-scale",
)


# --- replicas ---------------------------------------------------------------------------


def cache_dir(arg: Path | None) -> Path:
    if arg is not None:
        return arg
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rdds" / "bench"


def replica_path(directory: Path, domains: int, seed: int) -> Path:
    """The cached replica for a size: keyed by size, seed, schema version and DDL digest."""
    from replica import schema

    digest = hashlib.sha256(schema.SCHEMA.encode()).hexdigest()[:8]
    return directory / f"demo-{domains}-seed{seed}-schema{schema.SCHEMA_VERSION}-{digest}.sqlite"


def _other_builds(directory: Path, path: Path) -> list[int]:
    """Builds of `path` under way in live processes (demo.write's `.NAME.PID.tmp` files);
    the files of killed builds are removed."""
    live = []
    for tmp in directory.glob(f".{path.name}.*.tmp"):
        pid = tmp.name.rsplit(".", 2)[-2]
        if not pid.isdigit():
            continue
        if Path(f"/proc/{pid}").exists():
            live.append(int(pid))
        else:
            tmp.unlink(missing_ok=True)
    return live


def ensure_replica(rdds: list[str], directory: Path, domains: int, seed: int) -> Path:
    path = replica_path(directory, domains, seed)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / f".{path.name}.lock", "w") as lock:
        # One build per file: a second run waits for the first instead of building too.
        fcntl.flock(lock, fcntl.LOCK_EX)
        waited = False
        while not path.exists() and (pids := _other_builds(directory, path)):
            if not waited:
                print(f"replica: waiting for pid {pids[0]}, building {path.name}", flush=True)
                waited = True
            time.sleep(5)
        if path.exists():
            print(f"replica: reusing {path}", flush=True)
        else:
            print(f"replica: building {domains:,} domains at {path} (1M takes minutes)", flush=True)
            t0 = time.monotonic()
            cmd = [*rdds, "demo", "--out", str(path), "--domains", str(domains)]
            cmd += ["--seed", str(seed)]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)  # demo.write is atomic
            print(f"replica: built in {time.monotonic() - t0:.0f} s", flush=True)
        store_answers(rdds, path)
        return path


def store_answers(rdds: list[str], path: Path) -> None:
    """The replica's stored answers (`rdds answers`), made under the default configuration,
    which is what the bench's servers run (the lifted limits shape no answer): nothing to do
    when they are there, every answer again after a change to the rendering code (1M takes
    minutes). Skipped for an rdds without the command."""
    out = subprocess.run([*rdds, "--help"], capture_output=True, text=True, check=True)
    if not any(line.split()[:1] == ["answers"] for line in out.stdout.splitlines()):
        return
    t0 = time.monotonic()
    subprocess.run(
        [*rdds, "answers", "--replica", str(path), "--host", HOST, "--quiet"], check=True
    )
    print(f"replica: stored answers checked in {time.monotonic() - t0:.0f} s", flush=True)


def domain_names(replica: Path) -> list[str]:
    conn = sqlite3.connect(f"{replica.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return [row[0] for row in conn.execute("SELECT name FROM domain ORDER BY name")]
    finally:
        conn.close()


@dataclass(slots=True)
class NameStream:
    """A replica's domain names in a fixed shuffled order, handed out without repeats until
    all have been used (then `wrapped` counts the passes)."""

    names: list[str]
    cursor: int = 0
    wrapped: int = 0

    def peek(self, n: int) -> list[str]:
        """The next `n` names (at most all of them), from the cursor on."""
        n = min(n, len(self.names))
        out = self.names[self.cursor : self.cursor + n]
        return out + self.names[: n - len(out)]

    def consume(self, n: int) -> None:
        """Move past `n` names: a load run has asked them."""
        self.cursor += n
        while self.cursor >= len(self.names):
            self.cursor -= len(self.names)
            self.wrapped += 1


# --- processes --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass(slots=True)
class Proc:
    """A started server process, its log file and its ports."""

    label: str
    popen: subprocess.Popen[bytes]
    log: Path
    http_port: int | None = None
    whois_port: int | None = None

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


#: Environment of every rdds instance: the operations (metrics and health) listener stays on,
#: as in production, but on a free port, so that several instances can run side by side.
RDDS_ENV = {"RDDS_METRICS_PORT": "0"}


def spawn(
    label: str,
    cmd: list[str],
    logdir: Path,
    env: dict[str, str] | None = None,
    **ports: int | None,
) -> Proc:
    log = logdir / f"{label}.log"
    with open(log, "wb") as fh:
        popen = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=fh,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
        )
    return Proc(label, popen, log, **ports)


def http_get(port: int, path: str, timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    url = f"http://{HOST}:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, dict(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read()


def whois_get(port: int, query: str, timeout: float = 5.0) -> bytes:
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.sendall(query.encode() + b"\r\n")
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def wait_ready(proc: Proc, probe: Callable[[], bool], timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            tail = proc.log.read_text(errors="replace")[-2000:]
            raise SystemExit(f"{proc.label} exited ({proc.popen.returncode}):\n{tail}")
        with contextlib.suppress(OSError):
            if probe():
                return
        time.sleep(0.2)
    raise SystemExit(f"{proc.label} not ready after {timeout:.0f} s (log: {proc.log})")


def find_rdds(arg: str | None) -> list[str]:
    if arg:
        return arg.split()
    found = shutil.which("rdds", path=str(Path(sys.executable).parent)) or shutil.which("rdds")
    if found is None:
        raise SystemExit("no `rdds` command: install the project (pip install -e .) or --rdds")
    return [found]


def workers_flag(rdds: list[str]) -> bool:
    """True when this `rdds serve` has `--workers` (issue 13); read from its --help."""
    out = subprocess.run([*rdds, "serve", "--help"], capture_output=True, text=True, check=True)
    return "--workers" in out.stdout


# --- configuration ----------------------------------------------------------------------


def _lifted(cls: Any) -> dict[str, Any]:
    """Per-client limits of a settings section raised out of the load generators' way.

    Any number key named `*per_second`, `*burst`, `max_connections*` or `max_per_address*`
    (today in both sections: rate_per_second, rate_burst, max_connections, max_per_address,
    and in `[rdap]` search_rate_per_second, search_rate_burst). A run with 429s or refused
    connections shows them as errors in its notes.
    """
    out: dict[str, Any] = {}
    for f in fields(cls):
        default = getattr(cls(), f.name)
        if isinstance(default, bool) or not isinstance(default, int | float):
            continue
        if f.name.endswith("per_second") or f.name.endswith("burst"):
            out[f.name] = type(default)(1_000_000_000)
        elif f.name.startswith(("max_connections", "max_per_address")):
            out[f.name] = 1_000_000
    return out


#: Answer cache keys of `[rdap]` set to their minimum for the p99-scale figure.
_CACHE_KEYS = ("cache_entries", "cache_bytes", "cache_max_bytes")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))


def write_config(
    path: Path, *, whois: bool, cache_minimal: bool, overrides: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    from rdap.settings import RdapSettings
    from whois43.settings import WhoisSettings

    sections: dict[str, dict[str, Any]] = {
        "rdap": _lifted(RdapSettings),
        "whois": _lifted(WhoisSettings) if whois else {"enabled": False},
    }
    if cache_minimal:
        known = {f.name for f in fields(RdapSettings)}
        sections["rdap"].update({k: 1 for k in _CACHE_KEYS if k in known})
    for section, values in overrides.items():
        sections.setdefault(section, {}).update(values)
    text = "".join(
        f"[{name}]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in values.items()) + "\n"
        for name, values in sections.items()
    )
    path.write_text(text, encoding="utf-8")
    return sections


def parse_sets(items: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        key, eq, value = item.partition("=")
        section, dot, name = key.partition(".")
        if not eq or not dot:
            raise SystemExit(f"--set {item}: expected SECTION.KEY=VALUE")
        try:
            parsed = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            parsed = value
        out.setdefault(section, {})[name] = parsed
    return out


# --- RSS --------------------------------------------------------------------------------


def _rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def process_tree(pid: int) -> list[int]:
    kids = _children()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) of a process and its descendants so far."""
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(stat[11]) + int(stat[12])  # utime, stime (fields 14, 15 of stat(5))
    return total / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU time of this process (the port-43 generator) and its reaped children (wrk)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class RssSampler:
    """Samples the RSS of each watched process tree in a thread; keeps the peak per pid."""

    def __init__(self, roots: dict[str, int], interval: float = 0.25) -> None:
        self.roots = roots
        self.interval = interval
        self.peak: dict[str, dict[int, float]] = {label: {} for label in roots}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> dict[str, dict[int, float]]:
        now: dict[str, dict[int, float]] = {}
        for label, root in self.roots.items():
            now[label] = {}
            for pid in process_tree(root):
                rss = _rss_mb(pid)
                if rss is not None:
                    now[label][pid] = rss
                    self.peak[label][pid] = max(rss, self.peak[label].get(pid, 0.0))
        return now

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


# --- load generators --------------------------------------------------------------------


@dataclass(slots=True)
class Result:
    """One load run against one target."""

    rate: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    extra: dict[str, Any] = field(default_factory=dict)
    #: Cores busy during the run (CPU seconds / wall seconds): the server's process tree, and
    #: the load generator (wrk, or this process for port 43). A server well under 1.0 per
    #: process was not the bottleneck: the generator or the shared machine was.
    server_cores: float = 0.0
    client_cores: float = 0.0
    #: The server's CPU time per answer: what a saturated single process could sustain is
    #: 1e6 / this, whatever share of the shared machine it got.
    server_us_per_answer: float = 0.0


def run_wrk(port: int, paths_file: Path, seconds: int, threads: int, connections: int) -> Result:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        f"http://{HOST}:{port}",
        "--",
        str(paths_file),
        str(threads),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    if out.returncode != 0:
        raise SystemExit(f"wrk failed ({out.returncode}): {out.stderr.strip() or out.stdout}")
    line = [x for x in out.stdout.splitlines() if x.startswith("{")][-1]
    data = json.loads(line)
    errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
    return Result(
        rate=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        requests=data["requests"],
        errors=errors,
        extra={k: data[k] for k in ("connect", "read", "write", "status", "timeout") if data[k]},
    )


class _Query(asyncio.Protocol):
    """One port-43 exchange: send the query line, read to EOF (the server closes)."""

    def __init__(self, line: bytes, done: asyncio.Future[bytes]) -> None:
        self.line = line
        self.done = done
        self.head = b""
        self.size = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(self.line)

    def data_received(self, data: bytes) -> None:
        if self.size < 16:
            self.head += data[:16]
        self.size += len(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            if exc is None:
                self.done.set_result(self.head)
            else:
                self.done.set_exception(exc)


async def _whois_load(
    port: int, queries: list[bytes], seconds: float, connections: int
) -> tuple[float, list[float], int, int]:
    loop = asyncio.get_running_loop()
    lat: list[float] = []
    errors = 0
    it: Iterator[int] = itertools.count()
    start = time.perf_counter()
    deadline = start + seconds

    async def client() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            line = queries[next(it) % len(queries)]
            t0 = time.perf_counter()
            done: asyncio.Future[bytes] = loop.create_future()
            try:
                await loop.create_connection(functools.partial(_Query, line, done), HOST, port)
                head = await asyncio.wait_for(done, 10.0)
            except (OSError, TimeoutError):
                errors += 1
                continue
            lat.append(time.perf_counter() - t0)
            # A refusal or a miss is not a lookup answer (the names all exist).
            if head.startswith((b"Error:", b"No match")):
                errors += 1

    await asyncio.gather(*(client() for _ in range(connections)))
    elapsed = time.perf_counter() - start
    return len(lat) / elapsed, lat, errors, len(lat) + errors


def run_whois(port: int, queries: list[bytes], seconds: float, connections: int) -> Result:
    rate, lat, errors, used = asyncio.run(_whois_load(port, queries, seconds, connections))
    lat.sort()

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1000 if lat else float("nan")

    return Result(rate, pct(50), pct(99), len(lat), errors, {"used": used})


# --- the run ----------------------------------------------------------------------------


@dataclass(slots=True)
class Target:
    """One side of a figure: a server, a protocol and which names to ask."""

    label: str
    proc: Proc
    protocol: str  # "rdap" | "whois"
    names: NameStream | None  # None: the one fixed name again
    #: Repeated names are harmless (the answer cache is at its minimum): no note.
    repeats_ok: bool = False


@dataclass(slots=True)
class Figure:
    key: str
    title: str
    a: Target
    b: Target
    metric: str = "rate"  # "rate": ratio of throughputs; "p99": ratio of p99 latencies
    runs: dict[str, list[Result]] = field(default_factory=dict)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def run_target(target: Target, args: argparse.Namespace, work: Path, fixed: str) -> Result:
    server0, client0 = tree_cpu_seconds(target.proc.popen.pid), own_cpu_seconds()
    wall0 = time.monotonic()
    result = _run_target(target, args, work, fixed)
    wall = time.monotonic() - wall0
    server_cpu = tree_cpu_seconds(target.proc.popen.pid) - server0
    result.server_cores = server_cpu / wall
    result.server_us_per_answer = server_cpu / max(1, result.requests) * 1e6
    result.client_cores = (own_cpu_seconds() - client0) / wall
    return result


def _run_target(target: Target, args: argparse.Namespace, work: Path, fixed: str) -> Result:
    seconds = args.seconds
    names = [fixed] if target.names is None else target.names.peek(args.slice)
    if target.protocol == "rdap":
        assert target.proc.http_port is not None
        paths_file = work / f"paths-{target.label}.txt"
        lines = names
        if target.names is not None and len(names) < args.slice:
            # A small replica's names, repeated to fill the slice: wrk holds a file of the
            # same size on both sides of p99-scale.
            lines = (names * (args.slice // len(names) + 1))[: args.slice]
        paths_file.write_text("".join(f"/domain/{n}\n" for n in lines), encoding="ascii")
        result = run_wrk(
            target.proc.http_port, paths_file, seconds, args.wrk_threads, args.connections
        )
        # One wrk thread walks the slice in order (plus one request wrk makes to check the
        # script, plus the ones in flight at the end); several threads start at their shares.
        used = result.requests + args.connections + 1 if args.wrk_threads == 1 else len(names)
        walked = min(used, len(lines))  # all of a repeated file's names, and round again
    else:
        assert target.proc.whois_port is not None
        queries = [n.encode() + b"\r\n" for n in names]
        result = run_whois(target.proc.whois_port, queries, seconds, args.whois_connections)
        used = result.extra.pop("used")
        walked = min(used, len(names))
    if target.names is not None:
        if used > len(names):
            result.extra["repeated_names"] = used - len(names)
        target.names.consume(walked)
    return result


def ratio(fig: Figure) -> tuple[float, float, float]:
    a, b = fig.runs[fig.a.label], fig.runs[fig.b.label]
    if fig.metric == "p99":
        ma, mb = median([r.p99_ms for r in a]), median([r.p99_ms for r in b])
    else:
        ma, mb = median([r.rate for r in a]), median([r.rate for r in b])
    return ma, mb, ma / mb if mb else float("nan")


def goal_text(key: str, value: float) -> tuple[str, bool | None]:
    key = key.split("@")[0]
    op, goal = GOALS["rdap-random-w" if key.startswith("rdap-random-w") else key]
    if not op:
        return "-", None
    ok = value >= goal if op == ">=" else value <= goal
    return f"{op} {goal:g}", ok


def print_table(table: list[list[str]]) -> None:
    """A Markdown table: text left-aligned in the first column, the rest right-aligned."""
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]

    def line(row: list[str]) -> str:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        return "| " + " | ".join(cells) + " |"

    print(line(table[0]))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in table[1:]:
        print(line(row))


def print_report(report: dict[str, Any]) -> None:
    """The tables of a run (also of a saved JSON file: `--show FILE`)."""
    a = report["args"]
    print()
    print(f"command: {report['command']} (commit {report['commit']})")
    print(
        f"serve_bench: {a['domains']:,} domains, {a['rounds']} rounds x {a['seconds']} s, "
        f"wrk -t{a['wrk_threads']} -c{a['connections']}, port 43 {a['whois_connections']} "
        f"connections, {report['cores']} cores, load average "
        f"{' '.join(report['loadavg_before'])} -> {' '.join(report['loadavg_after'])} "
        "(shared machine: compare ratios, not absolutes)"
    )
    size = report["answer_bytes"]
    print(
        f"same name: {report['same_name']} ({size['rdap']:,} B RDAP body, "
        f"{size['whois']:,} B WHOIS text)"
    )
    print()
    table = [["figure", "rdds", "baseline", "ratio", "goal", "met", "rdds p99 ms",
              "base p99 ms", "server cores", "client cores", "CPU µs/answer",
              "CPU ratio"]]  # fmt: skip
    for row in report["figures"]:
        fmt = ".1f" if row["metric"] == "p99" else ".0f"
        table.append(
            [
                row["figure"],
                f"{row['a_median']:{fmt}}",
                f"{row['b_median']:{fmt}}",
                f"{row['ratio']:.3f}",
                row["goal"],
                {True: "yes", False: "NO", None: "-"}[row["meets_goal"]],
                f"{row['a_p99_ms']:.1f}",
                f"{row['b_p99_ms']:.1f}",
                f"{row['a_server_cores']:.2f} / {row['b_server_cores']:.2f}",
                f"{row['a_client_cores']:.2f} / {row['b_client_cores']:.2f}",
                f"{row['a_us_per_answer']:.0f} / {row['b_us_per_answer']:.0f}",
                "-" if row["cpu_ratio"] != row["cpu_ratio"] else f"{row['cpu_ratio']:.3f}",
            ]
        )
    print_table(table)
    print()
    table = [["rdds process (RSS)", "idle MB", "peak MB per process", "goal", "met",
              "random names answered"]]  # fmt: skip
    for rss in report["rss"]:
        table.append(
            [
                rss["process"],
                f"{rss['idle_mb']:.0f}",
                ", ".join(f"{x:.0f}" for x in rss["peak_mb_per_process"]),
                f"< {RSS_GOAL_MB:g} per worker",
                "yes" if rss["meets_goal"] else "NO",
                f"{rss.get('random_names_answered', 0):,}",
            ]
        )
    print_table(table)
    for note in report["notes"]:
        print(f"note: {note}")


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--domains",
        type=int,
        default=1_000_000,
        help="names in the big replica (default %(default)s)",
    )
    ap.add_argument(
        "--small-domains",
        type=int,
        default=10_000,
        help="names in the small replica (p99-scale) (default %(default)s)",
    )
    ap.add_argument("--seed", type=int, default=1, help="demo generator seed (default %(default)s)")
    ap.add_argument(
        "--rounds", type=int, default=5, help="interleaved rounds (default %(default)s)"
    )
    ap.add_argument(
        "--seconds", type=int, default=5, help="duration of each load run (default %(default)s)"
    )
    ap.add_argument(
        "--warmup", type=int, default=1, help="seconds per target, discarded (default %(default)s)"
    )
    ap.add_argument(
        "--workers",
        type=int,
        default=2,
        help="rdds workers for rdap-random-wN (default %(default)s)",
    )
    ap.add_argument(
        "--connections", type=int, default=64, help="wrk connections (default %(default)s)"
    )
    ap.add_argument(
        "--wrk-threads",
        type=int,
        default=1,
        help="wrk threads, each with its share of the names (default %(default)s)",
    )
    ap.add_argument(
        "--whois-connections",
        type=int,
        default=32,
        help="port-43 generator connections (default %(default)s)",
    )
    ap.add_argument(
        "--slice", type=int, default=250_000, help="names handed to one run (default %(default)s)"
    )
    ap.add_argument("--name", help="the name asked again (default: one random domain)")
    ap.add_argument("--only", help=f"comma-separated figures of: {', '.join(FIGURES)}")
    ap.add_argument("--cache-dir", type=Path, help="where replicas are kept")
    ap.add_argument("--rdds", help="command to run rdds (default: `rdds` beside this Python)")
    ap.add_argument(
        "--rdds-b",
        metavar="CMD",
        help="a second rdds command (e.g. another worktree's .venv/bin/rdds), measured in the"
        " same rounds: every figure but p99-scale gets a FIGURE@b row (A, bare, B, bare, ...)",
    )
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="extra rdds configuration for every rdds instance (TOML value)",
    )
    ap.add_argument("--out", type=Path, help="JSON result file (default bench/out/serve-*.json)")
    ap.add_argument("--show", type=Path, metavar="JSON", help="print a saved run's tables")
    args = ap.parse_args()
    # SIGTERM unwinds like Ctrl-C, so that every server this run started is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.show:
        print_report(json.loads(args.show.read_text(encoding="utf-8")))
        return 0
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk")
    only = set(args.only.split(",")) if args.only else set(FIGURES)
    unknown = only - set(FIGURES)
    if unknown:
        raise SystemExit(f"--only: unknown figure(s) {', '.join(sorted(unknown))}")
    sys.path.insert(0, str(ROOT))
    rdds = find_rdds(args.rdds)
    rdds_b = find_rdds(args.rdds_b) if args.rdds_b else None
    overrides = parse_sets(args.set)
    notes: list[str] = []

    directory = cache_dir(args.cache_dir)
    big = ensure_replica(rdds, directory, args.domains, args.seed)
    small = None
    if "p99-scale" in only and args.small_domains == args.domains:
        notes.append("p99-scale: skipped, --small-domains equals --domains")
        only.discard("p99-scale")
    if "p99-scale" in only:
        small = ensure_replica(rdds, directory, args.small_domains, args.seed)
    rng = random.Random(args.seed)
    names = domain_names(big)
    rng.shuffle(names)
    fixed = args.name or names[0]
    if fixed in names:
        names.remove(fixed)
    big_stream = NameStream(names)
    small_stream = None
    if small is not None:
        small_names = domain_names(small)
        rng.shuffle(small_names)
        small_stream = NameStream(small_names)

    has_workers = workers_flag(rdds)
    want_workers = "rdap-random-w" in only
    if want_workers and not has_workers:
        notes.append("rdap-random-w: skipped, `rdds serve --help` has no --workers")
        only.discard("rdap-random-w")

    OUT.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    logdir = OUT / f"logs-{stamp}"
    logdir.mkdir()
    procs: list[Proc] = []
    configs: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as tmp:
        work = Path(tmp)

        def start_rdds(
            label: str,
            replica: Path,
            *,
            whois: bool,
            cache_minimal: bool,
            extra: list[str],
            command: list[str] | None = None,
        ) -> Proc:
            cfg = work / f"{label}.toml"
            configs[label] = write_config(
                cfg, whois=whois, cache_minimal=cache_minimal, overrides=overrides
            )
            rdap_port = free_port()
            whois_port = free_port() if whois else None
            cmd = [*(command or rdds), "serve", "--replica", str(replica), "--config", str(cfg)]
            cmd += ["--host", HOST, "--rdap-port", str(rdap_port), *extra]
            if whois_port is not None:
                cmd += ["--whois-port", str(whois_port)]
            proc = spawn(label, cmd, logdir, RDDS_ENV, http_port=rdap_port, whois_port=whois_port)
            procs.append(proc)
            return proc

        try:
            wanted_main = only & {"rdap-cached", "rdap-random", "whois-cached", "whois-random"}
            main_proc = None
            if wanted_main:
                main_proc = start_rdds("rdds", big, whois=True, cache_minimal=False, extra=[])
            wproc = None
            if "rdap-random-w" in only:
                wproc = start_rdds(
                    f"rdds-w{args.workers}",
                    big,
                    whois=False,
                    cache_minimal=False,
                    extra=["--workers", str(args.workers)],
                )
            scale_big = scale_small = None
            if "p99-scale" in only:
                assert small is not None
                scale_big = start_rdds(
                    f"rdds-{args.domains}-nocache", big, whois=False, cache_minimal=True, extra=[]
                )
                scale_small = start_rdds(
                    f"rdds-{args.small_domains}-nocache",
                    small,
                    whois=False,
                    cache_minimal=True,
                    extra=[],
                )
                minimal = {
                    k: v for k, v in configs[scale_big.label]["rdap"].items() if k in _CACHE_KEYS
                }
                if not minimal:
                    notes.append("p99-scale: no known answer cache key in [rdap]; cache left on")
            b_main = b_workers = None
            if rdds_b is not None:
                b_main = start_rdds(
                    "rdds-b", big, whois=True, cache_minimal=False, extra=[], command=rdds_b
                )
                if wproc is not None:
                    b_workers = start_rdds(
                        f"rdds-b-w{args.workers}",
                        big,
                        whois=False,
                        cache_minimal=False,
                        extra=["--workers", str(args.workers)],
                        command=rdds_b,
                    )
            rdds_procs = list(procs)
            for proc in rdds_procs:
                assert proc.http_port is not None
                port = proc.http_port
                wait_ready(proc, lambda port=port: http_get(port, f"/domain/{fixed}")[0] < 500)
            # The answers the bare baselines repeat, byte for byte.
            probe = main_proc or rdds_procs[0]
            assert probe.http_port is not None
            status, headers, body = http_get(probe.http_port, f"/domain/{fixed}")
            if status != 200:
                raise SystemExit(f"GET /domain/{fixed}: HTTP {status}")
            if scale_small is not None and scale_small.http_port is not None:
                assert small_stream is not None
                check = small_stream.names[0]
                if http_get(scale_small.http_port, f"/domain/{check}")[0] != 200:
                    raise SystemExit(f"small replica: GET /domain/{check} is not 200")
            drop = {"date", "server", "content-length", "connection", "keep-alive"}
            body_file = work / "answer.body"
            body_file.write_bytes(body)
            answer = work / "answer.json"
            answer.write_text(
                json.dumps(
                    {
                        "headers": {k: v for k, v in headers.items() if k.lower() not in drop},
                        "body_file": str(body_file),
                    }
                ),
                encoding="utf-8",
            )
            bare_http = free_port()
            bare_rdap = spawn(
                "bare-aiohttp",
                [sys.executable, str(BARE), "rdap", str(answer), str(bare_http)],
                logdir,
                http_port=bare_http,
            )
            procs.append(bare_rdap)
            wait_ready(bare_rdap, lambda: http_get(bare_http, "/")[2] == body)
            text = b""
            bare_whois = None
            if main_proc is not None and main_proc.whois_port is not None:
                text = whois_get(main_proc.whois_port, fixed)
                text_file = work / "answer.txt"
                text_file.write_bytes(text)
                bare_43 = free_port()
                bare_whois = spawn(
                    "bare-whois",
                    [sys.executable, str(BARE), "whois", str(text_file), str(bare_43)],
                    logdir,
                    whois_port=bare_43,
                )
                procs.append(bare_whois)
                wait_ready(bare_whois, lambda: whois_get(bare_43, fixed) == text)

            figures: list[Figure] = []
            bare_http_t = Target("bare-aiohttp", bare_rdap, "rdap", None)
            # The baselines answer every name alike: their own stream, repeats harmless.
            bare_stream = NameStream(big_stream.names, cursor=len(big_stream.names) // 2)
            bare_http_rand = Target("bare-aiohttp", bare_rdap, "rdap", bare_stream, True)
            if main_proc is not None:
                if "rdap-cached" in only:
                    figures.append(
                        Figure(
                            "rdap-cached",
                            "RDAP same name (cache hit) req/s",
                            Target("rdds", main_proc, "rdap", None),
                            bare_http_t,
                        )
                    )
                if "rdap-random" in only:
                    figures.append(
                        Figure(
                            "rdap-random",
                            "RDAP random names, 1 worker req/s",
                            Target("rdds", main_proc, "rdap", big_stream),
                            bare_http_rand,
                        )
                    )
            if wproc is not None:
                figures.append(
                    Figure(
                        f"rdap-random-w{args.workers}",
                        f"RDAP random names, {args.workers} workers req/s",
                        Target(wproc.label, wproc, "rdap", big_stream),
                        bare_http_rand,
                    )
                )
            if main_proc is not None and bare_whois is not None:
                if "whois-cached" in only:
                    figures.append(
                        Figure(
                            "whois-cached",
                            "WHOIS same name (cache hit) q/s",
                            Target("rdds", main_proc, "whois", None),
                            Target("bare-asyncio", bare_whois, "whois", None),
                        )
                    )
                if "whois-random" in only:
                    figures.append(
                        Figure(
                            "whois-random",
                            "WHOIS random names q/s",
                            Target("rdds", main_proc, "whois", big_stream),
                            Target("bare-asyncio", bare_whois, "whois", bare_stream, True),
                        )
                    )
            if scale_big is not None and scale_small is not None:
                assert small_stream is not None
                figures.append(
                    Figure(
                        "p99-scale",
                        f"RDAP p99 random names, {args.domains:,} vs {args.small_domains:,} ms",
                        Target(scale_big.label, scale_big, "rdap", big_stream, repeats_ok=True),
                        Target(
                            scale_small.label, scale_small, "rdap", small_stream, repeats_ok=True
                        ),
                        metric="p99",
                    )
                )

            if b_main is not None:
                # The same figures against the second rdds, each right after its A figure.
                with_b: list[Figure] = []
                for fig in figures:
                    with_b.append(fig)
                    if fig.metric == "p99":
                        continue
                    proc_b = b_workers if fig.key.startswith("rdap-random-w") else b_main
                    if proc_b is None:
                        continue
                    a = fig.a
                    with_b.append(
                        Figure(
                            f"{fig.key}@b",
                            f"{fig.title} (rdds-b)",
                            Target(proc_b.label, proc_b, a.protocol, a.names, a.repeats_ok),
                            fig.b,
                        )
                    )
                figures = with_b
            watched = {p.label: p.popen.pid for p in rdds_procs}
            sampler = RssSampler(watched)
            idle = sampler.sample()
            sampler.peak = {label: {} for label in watched}
            load0 = Path("/proc/loadavg").read_text().split()[:3]
            # Random names answered per server: what its answer caches may hold at most.
            answered = collections.Counter[str]()
            t_start = time.monotonic()
            with sampler:
                if args.warmup > 0:
                    warm = argparse.Namespace(**{**vars(args), "seconds": args.warmup})
                    for fig in figures:
                        for target in (fig.a, fig.b):
                            warm_result = run_target(target, warm, work, fixed)
                            if target.names is not None:
                                answered[target.proc.label] += warm_result.requests
                for rnd in range(1, args.rounds + 1):
                    for fig in figures:
                        for target in (fig.a, fig.b):
                            if not target.proc.alive():
                                raise SystemExit(f"{target.proc.label} died (see {logdir})")
                            result = run_target(target, args, work, fixed)
                            fig.runs.setdefault(target.label, []).append(result)
                            if target.names is not None:
                                answered[target.proc.label] += result.requests
                            flag = f"  errors {result.errors}" if result.errors else ""
                            print(
                                f"round {rnd} {fig.key:16} {target.label:22} "
                                f"{result.rate:9.0f}/s  p50 {result.p50_ms:7.2f} ms  "
                                f"p99 {result.p99_ms:7.2f} ms  cores server "
                                f"{result.server_cores:4.2f} client {result.client_cores:4.2f}"
                                f"  {result.server_us_per_answer:6.0f} µs/answer{flag}",
                                flush=True,
                            )
            elapsed = time.monotonic() - t_start
            load1 = Path("/proc/loadavg").read_text().split()[:3]
        finally:
            for proc in reversed(procs):
                proc.stop()

    if big_stream.wrapped:
        notes.append(
            f"the {args.domains:,} names were used up {big_stream.wrapped}x: later random-name"
            " runs repeated names (the answer caches may have helped)"
        )
    for fig in figures:
        for target in (fig.a, fig.b):
            results = fig.runs[target.label]
            if any(r.errors for r in results):
                notes.append(f"{fig.key} {target.label}: {sum(r.errors for r in results)} errors")
            if not target.repeats_ok and any("repeated_names" in r.extra for r in results):
                notes.append(f"{fig.key} {target.label}: names repeated within a run (--slice)")

    rows = []
    for fig in figures:
        ma, mb, r = ratio(fig)
        goal, ok = goal_text(fig.key, r)
        a_runs, b_runs = fig.runs[fig.a.label], fig.runs[fig.b.label]
        cost_a = median([x.server_us_per_answer for x in a_runs])
        cost_b = median([x.server_us_per_answer for x in b_runs])
        # Throughput: what one saturated process of each would reach, relative (baseline
        # cost / rdds cost), whatever share of a loaded machine each got; not meaningful
        # with workers. p99-scale: the cost of an answer on the big replica over the small.
        cpu_ratio = float("nan")
        if fig.metric == "p99" and cost_b:
            cpu_ratio = cost_a / cost_b
        elif not fig.key.startswith("rdap-random-w") and cost_a:
            cpu_ratio = cost_b / cost_a
        rows.append(
            {
                "figure": fig.key,
                "title": fig.title,
                "a": fig.a.label,
                "b": fig.b.label,
                "metric": fig.metric,
                "a_median": ma,
                "b_median": mb,
                "a_p99_ms": median([x.p99_ms for x in a_runs]),
                "b_p99_ms": median([x.p99_ms for x in b_runs]),
                "a_server_cores": median([x.server_cores for x in a_runs]),
                "b_server_cores": median([x.server_cores for x in b_runs]),
                "a_client_cores": median([x.client_cores for x in a_runs]),
                "b_client_cores": median([x.client_cores for x in b_runs]),
                "a_us_per_answer": cost_a,
                "b_us_per_answer": cost_b,
                "cpu_ratio": cpu_ratio,
                "ratio": r,
                "goal": goal,
                "meets_goal": ok,
                "runs": {k: [asdict(x) for x in v] for k, v in fig.runs.items()},
            }
        )
    rss_rows = []
    for label, peaks in sampler.peak.items():
        per = sorted(peaks.values(), reverse=True)  # a worker tree: one figure per process
        top = per[0] if per else float("nan")
        rss_rows.append(
            {
                "process": label,
                "idle_mb": sum(idle.get(label, {}).values()),
                "peak_mb_per_process": per,
                "random_names_answered": answered[label],
                "meets_goal": top < RSS_GOAL_MB,
            }
        )
    from rdap.settings import RdapSettings

    entries = getattr(RdapSettings(), "cache_entries", None)
    size = getattr(RdapSettings(), "cache_bytes", None)
    if "rdds" in answered and entries is not None and answered["rdds"] < entries:
        bound = f"{entries:,} answers" + (f" or {size / MB:g} MiB" if size else "")
        notes.append(
            f"rss: rdds answered {answered['rdds']:,} random names; its RDAP answer cache holds"
            f" up to {bound}, so a longer run may peak higher"
        )

    out = args.out or OUT / f"serve-{args.domains}-{stamp}.json"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    report = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "started": stamp,
        "commit": commit,
        "cores": os.cpu_count(),
        "loadavg_before": load0,
        "loadavg_after": load1,
        "elapsed_s": elapsed,
        "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0],
        "replicas": {"big": str(big), "small": str(small) if small else None},
        "same_name": fixed,
        "answer_bytes": {"rdap": len(body), "whois": len(text)},
        "configs": configs,
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "figures": rows,
        "rss": rss_rows,
        "notes": notes,
        "logs": str(logdir),
    }
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print_report(report)
    print(f"\nwritten {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
