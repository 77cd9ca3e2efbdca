"""PostgreSQL benchmark (a script, run by hand; never a test): lookups per second against the
SQLite and the PostgreSQL store, and what imports and the database cost as the replica grows.

    .venv/bin/python bench/pg_bench.py lookups [--domains 100000] [--rounds 3] [--seconds 5]
    .venv/bin/python bench/pg_bench.py import [--sizes 10000,100000,1000000]
    .venv/bin/python bench/pg_bench.py all [--sizes ...] [--rounds ...]   # import, then lookups
        on the largest size's database
    .venv/bin/python bench/pg_bench.py --show bench/out/pg-....json

A PostgreSQL cluster is started as tests/pgserver.py does (initdb in a temporary directory,
a free 127.0.0.1 port, fsync off: the write figures are a lower bound) and removed at the end.

`lookups`: the demo replica of `--domains` names (built with `rdds demo` or reused from the
bench cache, as bench/serve_bench.py does), loaded into PostgreSQL, then three `rdds serve`
processes with the RDAP answer cache at its minimum: one on the SQLite file, two on the one
database. Each round runs, in rotating order: `sqlite-1` (wrk, 64 connections, at the SQLite
node), `pg-1` (the same at one PostgreSQL node), `pg-2` (two wrk at once, 32 connections
each, one per PostgreSQL node). Names are the replica's own in a shuffled order, never asked
twice of the same store (bench/serve_bench.py's NameStream). Per run: answers a second,
p99, and CPU per answer of the rdds processes and of the PostgreSQL server (all backends).

`import`: for each size, the demo deposits (one FULL and one DIFF per TLD; the DIFFs change
about 40 objects each whatever the size), cached beside the replicas; a new database; the
FULLs through `escrow.pg_import.import_into` in a child process (the import's own wall time,
the child's CPU with its parser worker, peak RSS, and the server's CPU); the database's size
(tables and indexes); then the DIFFs: with the warm working copy, through the SQLite
importer alone on a copy of it, and for sizes up to `--cold-max` with no working copy (a
temporary one: a full read, as every import cost before the working copy), with
`--old-rev REV`'s escrow/pg_import.py, with the now stale copy (it is rebuilt) and warm
again. Resends (resend="1", "2", ...) let one DIFF apply again. It ends with a
least-squares fit and the extrapolation to `--target` domains.

Everything measured goes to bench/out/pg-TIMESTAMP.json (git-ignored); logs to
bench/out/pg-logs-TIMESTAMP/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import asyncpg  # noqa: E402
import serve_bench as sb  # noqa: E402

from tests import pgserver  # noqa: E402

OUT = ROOT / "bench" / "out"
MiB = 2**20

#: Indexes every lookup walks (primary keys and the handle, reference and address keys):
#: what shared_buffers should hold for uncached lookups not to wait on the disk.
HOT_EXTRA = ("contact_handle_key", "domain_contact_contact", "domain_registrant", "host_addr_ip")


# --- the PostgreSQL cluster ------------------------------------------------------------------


@contextlib.contextmanager
def cluster() -> Iterator[pgserver.PgServer]:
    if pgserver.bin_dir() is None:
        raise SystemExit("no PostgreSQL server binaries (apt-get install postgresql)")
    base = Path(tempfile.mkdtemp(prefix="rdds-pg-bench-"))
    try:
        server = pgserver.start_server(base)
        try:
            yield server
        finally:
            server.stop("fast")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def postmaster_pid(server: pgserver.PgServer) -> int:
    return int((server.datadir / "postmaster.pid").read_text().split()[0])


def server_cpu_seconds(server: pgserver.PgServer) -> float:
    """CPU time of the PostgreSQL server so far: its live processes, and the backends that
    have exited (the postmaster's reaped children, stat(5) cutime and cstime)."""
    pid = postmaster_pid(server)
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    reaped = (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    return sb.tree_cpu_seconds(pid) + reaped


def db_url(server: pgserver.PgServer, name: str) -> str:
    return server.url.rsplit("/", 1)[0] + "/" + name


async def _sql(url: str, *statements: str) -> list[Any]:
    conn = await asyncpg.connect(url)
    try:
        return [await conn.fetch(s) for s in statements]
    finally:
        await conn.close()


def sql(url: str, *statements: str) -> list[Any]:
    return asyncio.run(_sql(url, *statements))


def new_database(server: pgserver.PgServer, name: str) -> str:
    sql(server.url, f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
    return db_url(server, name)


def settings_of(url: str) -> dict[str, str]:
    keys = ("shared_buffers", "work_mem", "fsync", "synchronous_commit", "server_version")
    (rows,) = sql(url, f"SELECT name, setting, unit FROM pg_settings WHERE name IN {keys!r}")
    return {r["name"]: f"{r['setting']}{' ' + r['unit'] if r['unit'] else ''}" for r in rows}


def sizes_of(url: str) -> dict[str, Any]:
    db, tables, indexes = sql(
        url,
        "SELECT pg_database_size(current_database()) AS n",
        "SELECT relname, pg_table_size(relid) AS t, pg_indexes_size(relid) AS i "
        "FROM pg_stat_user_tables ORDER BY relname",
        "SELECT indexrelname AS name, pg_relation_size(indexrelid) AS n "
        "FROM pg_stat_user_indexes ORDER BY 2 DESC",
    )
    index = {r["name"]: int(r["n"]) for r in indexes}
    hot = sum(n for name, n in index.items() if name.endswith("_pkey") or name in HOT_EXTRA)
    return {
        "database": int(db[0]["n"]),
        "tables": sum(int(r["t"]) for r in tables),
        "indexes": sum(int(r["i"]) for r in tables),
        "hot_indexes": hot,
        "per_table": {r["relname"]: [int(r["t"]), int(r["i"])] for r in tables},
        "per_index": index,
    }


# --- child processes -------------------------------------------------------------------------


def timed(
    cmd: list[str], server: pgserver.PgServer | None = None, log: Path | None = None
) -> dict[str, float]:
    """Run a child to completion: wall seconds, its CPU seconds and peak RSS, and the
    PostgreSQL server's CPU seconds meanwhile."""
    pg0 = server_cpu_seconds(server) if server else 0.0
    start = time.monotonic()
    err = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    try:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=err)
        stdout = proc.stdout.read() if proc.stdout else b""
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        if log:
            err.close()  # type: ignore[union-attr]
    wall = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed ({status}): {' '.join(cmd)[:300]} (log: {log})")
    if server:
        time.sleep(1.0)  # the import's backend exits and is reaped after the child ends
    pg = server_cpu_seconds(server) - pg0 if server else 0.0
    out = {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "rss_mib": usage.ru_maxrss / 1024,
        "pg_cpu_s": pg,
    }
    lines = stdout.decode(errors="replace").strip().splitlines()
    if lines and lines[-1].startswith("{"):
        out["process_wall_s"] = wall
        out.update(json.loads(lines[-1]))
    return out


_EXPORT = """
import sys
from pathlib import Path
from escrow import export
export.write_deposits(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
Path(sys.argv[1], "COMPLETE").write_text("")
"""
# Import children time the import itself (interpreter start-up and module imports, about
# 1.5 s of CPU here, are left out of "wall_s" and "import_cpu_s"; "cpu_s" has everything,
# the deposit parser's worker process included) and print it as the last line.
_TIMING = """
import json, time
t0, c0 = time.monotonic(), time.process_time()
def done():
    print(json.dumps({"wall_s": time.monotonic() - t0, "import_cpu_s": time.process_time() - c0}))
"""
_PG_IMPORT = (
    _TIMING
    + """
import asyncio, sys
from pathlib import Path
from escrow import pg_import
work = None if sys.argv[2] == "-" else Path(sys.argv[2])
paths = [Path(p) for p in sys.argv[3:]]
asyncio.run(pg_import.import_into(sys.argv[1], paths, work_dir=work))
done()
"""
)
_SQLITE_IMPORT = (
    _TIMING
    + """
import sys
from pathlib import Path
from escrow import importer
importer.import_deposits(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]])
done()
"""
)
_OLD_IMPORT = (
    _TIMING
    + """
import asyncio, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import old_pg_import
asyncio.run(old_pg_import.import_into(sys.argv[2], [Path(p) for p in sys.argv[3:]]))
done()
"""
)


def deposits_for(directory: Path, n: int, seed: int, log: Path) -> tuple[list[Path], float]:
    """The demo deposits of `n` domains (cached, keyed like the replicas); seconds to write
    them (0 when reused)."""
    from replica import schema

    digest = hashlib.sha256(schema.SCHEMA.encode()).hexdigest()[:8]
    where = directory / f"rde-{n}-seed{seed}-schema{schema.SCHEMA_VERSION}-{digest}"
    took = 0.0
    if not (where / "COMPLETE").exists():
        shutil.rmtree(where, ignore_errors=True)
        print(f"deposits: writing {n:,} domains to {where}", flush=True)
        took = timed([sys.executable, "-c", _EXPORT, str(where), str(n), str(seed)], log=log)[
            "wall_s"
        ]
    paths = sorted(p for p in where.iterdir() if p.name.endswith(".xml"))
    fulls = [p for p in paths if "_full_" in p.name]
    return fulls + [p for p in paths if "_diff_" in p.name], took


def resends(diffs: list[Path], level: int, into: Path) -> list[Path]:
    """Copies of the DIFFs as resend `level` (the chain accepts each level once)."""
    into.mkdir(parents=True, exist_ok=True)
    out = []
    for p in diffs:
        q = into / p.name.replace("_R0.", f"_R{level}.")
        q.write_text(p.read_text().replace('resend="0"', f'resend="{level}"', 1))
        out.append(q)
    return out


# --- import and sizing -----------------------------------------------------------------------


def measure_import(
    args: argparse.Namespace, server: pgserver.PgServer, rdds: list[str], work: Path, log: Path
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    old_module = None
    if args.old_rev:
        old_module = work / "old"
        old_module.mkdir()
        text = subprocess.run(
            ["git", "show", f"{args.old_rev}:escrow/pg_import.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        (old_module / "old_pg_import.py").write_text(text)
    for n in args.sizes:
        deposits, export_s = deposits_for(args.cache, n, args.seed, log)
        fulls = [p for p in deposits if "_full_" in p.name]
        diffs = [p for p in deposits if "_diff_" in p.name]
        url = new_database(server, f"size{n}")
        copy_dir = work / f"copy-{n}"

        def imp(work_dir: Path | None, paths: list[Path], url: str = url) -> list[str]:
            where = str(work_dir) if work_dir else "-"
            return [sys.executable, "-c", _PG_IMPORT, url, where, *map(str, paths)]

        print(f"import {n:,}: FULL", flush=True)
        load0 = os.getloadavg()
        full = timed(imp(copy_dir, fulls), server, log)
        row: dict[str, Any] = {
            "domains": n,
            "export_s": export_s,
            "deposit_mib": sum(p.stat().st_size for p in fulls) / MiB,
            "full": full,
            "loadavg": [load0, os.getloadavg()],
        }
        row["sizes"] = sizes_of(url)
        from escrow import pg_import

        copy = pg_import.work_path(copy_dir, url)
        row["sqlite_mib"] = copy.stat().st_size / MiB
        print(f"import {n:,}: DIFFs", flush=True)
        row["diff_warm"] = timed(imp(copy_dir, diffs), server, log)
        level = 1
        lite = work / f"lite-{n}.sqlite"
        shutil.copyfile(copy, lite)
        again = resends(diffs, level, work / f"r{n}-{level}")
        row["diff_sqlite"] = timed(
            [sys.executable, "-c", _SQLITE_IMPORT, str(lite), *map(str, again)], log=log
        )
        lite.unlink()
        if n <= args.cold_max:
            row["diff_cold"] = timed(imp(None, again), server, log)
            if old_module is not None:
                level += 1
                again = resends(diffs, level, work / f"r{n}-{level}")
                row["diff_old"] = timed(
                    [sys.executable, "-c", _OLD_IMPORT, str(old_module), url, *map(str, again)],
                    server,
                    log,
                )
            level += 1  # the warm copy is now behind the database: this one rebuilds it
            again = resends(diffs, level, work / f"r{n}-{level}")
            row["diff_rebuild"] = timed(imp(copy_dir, again), server, log)
            level += 1
            again = resends(diffs, level, work / f"r{n}-{level}")
            row["diff_warm_again"] = timed(imp(copy_dir, again), server, log)
        row["diff_objects"] = sum(p.read_text().count("<rdeDomain:name>") for p in diffs)
        rows.append(row)
        if n != args.sizes[-1] or args.phase != "all":
            sql(server.url, f"DROP DATABASE size{n}")
            shutil.rmtree(copy_dir, ignore_errors=True)
        print(f"import {n:,}: {json.dumps(_brief(row))}", flush=True)
    return rows


DIFF_RUNS = ("diff_warm", "diff_sqlite", "diff_cold", "diff_old", "diff_rebuild", "diff_warm_again")


def _brief(row: dict[str, Any]) -> dict[str, Any]:
    out = {"full_s": round(row["full"]["wall_s"], 1), "db_mib": row["sizes"]["database"] / MiB}
    for k in (
        "diff_warm",
        "diff_sqlite",
        "diff_cold",
        "diff_old",
        "diff_rebuild",
        "diff_warm_again",
    ):
        if k in row:
            out[k + "_s"] = round(row[k]["wall_s"], 2)
    return out


def fit(points: list[tuple[float, float]]) -> dict[str, float]:
    """y = a + b·n (least squares) and y = c·n^k (log-log), for extrapolation."""
    n = len(points)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0
    lx, ly = [math.log(x) for x in xs], [math.log(max(y, 1e-9)) for y in ys]
    mlx, mly = sum(lx) / n, sum(ly) / n
    slx = sum((x - mlx) ** 2 for x in lx)
    k = sum((x - mlx) * (y - mly) for x, y in zip(lx, ly, strict=True)) / slx if slx else 1.0
    return {"a": my - b * mx, "b": b, "k": k, "c": math.exp(mly - k * mlx)}


def extrapolate(rows: list[dict[str, Any]], target: int) -> dict[str, Any]:
    series = {
        "full_import_s": [r["full"]["wall_s"] for r in rows],
        "full_import_cpu_s": [r["full"]["cpu_s"] + r["full"]["pg_cpu_s"] for r in rows],
        "database_mib": [r["sizes"]["database"] / MiB for r in rows],
        "tables_mib": [r["sizes"]["tables"] / MiB for r in rows],
        "indexes_mib": [r["sizes"]["indexes"] / MiB for r in rows],
        "hot_indexes_mib": [r["sizes"]["hot_indexes"] / MiB for r in rows],
        "working_copy_mib": [r["sqlite_mib"] for r in rows],
        "diff_warm_s": [r["diff_warm"]["wall_s"] for r in rows],
    }
    out: dict[str, Any] = {}
    for name, ys in series.items():
        f = fit([(float(r["domains"]), y) for r, y in zip(rows, ys, strict=True)])
        out[name] = {
            **f,
            "linear_at_target": f["a"] + f["b"] * target,
            "power_at_target": f["c"] * target ** f["k"],
        }
    return out


# --- lookups ---------------------------------------------------------------------------------


def _wrk(port: int, paths: list[str], file: Path, args: argparse.Namespace, conns: int) -> Any:
    file.write_text("".join(f"/domain/{n}\n" for n in paths), encoding="ascii")
    return sb.run_wrk(port, file, args.seconds, 1, conns)


def lookup_run(
    kind: str,
    nodes: list[sb.Proc],
    stream: sb.NameStream,
    pg_pid: int | None,
    args: argparse.Namespace,
    work: Path,
) -> dict[str, Any]:
    """One load run: every node at once, the connections split between them."""
    conns = args.connections // len(nodes)
    slices = [stream.peek(args.slice * len(nodes))[i :: len(nodes)] for i in range(len(nodes))]
    rdds0 = [sb.tree_cpu_seconds(p.popen.pid) for p in nodes]
    pg0 = sb.tree_cpu_seconds(pg_pid) if pg_pid else 0.0
    wall0 = time.monotonic()
    results: list[Any] = [None] * len(nodes)

    def go(i: int) -> None:
        port = nodes[i].http_port
        assert port is not None
        results[i] = _wrk(port, slices[i], work / f"paths-{kind}-{i}.txt", args, conns)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(nodes))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - wall0
    if any(r is None for r in results):
        raise SystemExit(f"{kind}: a load generator failed")
    answers = sum(r.requests for r in results)
    rdds_cpu = sum(sb.tree_cpu_seconds(p.popen.pid) - c for p, c in zip(nodes, rdds0, strict=True))
    pg_cpu = sb.tree_cpu_seconds(pg_pid) - pg0 if pg_pid else 0.0
    used = sum(r.requests + conns + 1 for r in results)
    if used > len(stream.names):
        print(f"note: {kind} asked names again ({used:,} > {len(stream.names):,})", flush=True)
    stream.consume(min(used, len(stream.names)))
    return {
        "rate": sum(r.rate for r in results),
        "p50_ms": max(r.p50_ms for r in results),
        "p99_ms": max(r.p99_ms for r in results),
        "errors": sum(r.errors for r in results),
        "answers": answers,
        "rdds_cores": rdds_cpu / wall,
        "pg_cores": pg_cpu / wall,
        "rdds_us": rdds_cpu / max(1, answers) * 1e6,
        "pg_us": pg_cpu / max(1, answers) * 1e6,
    }


def measure_lookups(
    args: argparse.Namespace,
    server: pgserver.PgServer,
    rdds: list[str],
    work: Path,
    logdir: Path,
    source: tuple[Path, str] | None,
) -> dict[str, Any]:
    if source is None:
        replica = sb.ensure_replica(rdds, args.cache, args.domains, args.seed)
        url = new_database(server, "lookups")
        print(f"lookups: loading {replica.name} into PostgreSQL", flush=True)
        load = timed(
            [
                sys.executable,
                "-c",
                "import asyncio, sys; from pathlib import Path; from escrow import pg_import; "
                "asyncio.run(pg_import.load(sys.argv[1], Path(sys.argv[2])))",
                url,
                str(replica),
            ],
            server,
            logdir / "load.log",
        )
    else:
        replica, url = source
        load = {}
    sql(url, "VACUUM (ANALYZE)")  # as autovacuum would leave it: visibility map, statistics
    names = sb.domain_names(replica)
    random.Random(args.seed).shuffle(names)
    streams = {"sqlite": sb.NameStream(list(names)), "pg": sb.NameStream(list(names))}
    procs: list[sb.Proc] = []

    def start(label: str, where: str) -> sb.Proc:
        cfg = work / f"{label}.toml"
        sb.write_config(cfg, whois=False, cache_minimal=True, overrides={})
        port = sb.free_port()
        cmd = [*rdds, "serve", "--replica", where, "--config", str(cfg)]
        cmd += ["--host", sb.HOST, "--rdap-port", str(port)]
        proc = sb.spawn(label, cmd, logdir, sb.RDDS_ENV, http_port=port)
        procs.append(proc)
        return proc

    try:
        lite = start("sqlite", str(replica))
        pg_a, pg_b = start("pg-a", url), start("pg-b", url)
        probe = names[0]
        for p in procs:
            port = p.http_port
            assert port is not None
            sb.wait_ready(p, lambda port=port: sb.http_get(port, f"/domain/{probe}")[0] == 200)
        bodies = {  # links carry each node's own port
            p.label: sb.http_get(p.http_port or 0, f"/domain/{probe}")[2].replace(
                f"{sb.HOST}:{p.http_port}".encode(), b"NODE"
            )
            for p in procs
        }
        if len(set(bodies.values())) != 1:
            for label, body in bodies.items():
                (logdir / f"answer-{label}.json").write_bytes(body)
            raise SystemExit(f"/domain/{probe}: the nodes' answers differ (see {logdir})")
        pg_pid = postmaster_pid(server)
        figures = {
            "sqlite-1": ([lite], streams["sqlite"], None),
            "pg-1": ([pg_a], streams["pg"], pg_pid),
            "pg-2": ([pg_a, pg_b], streams["pg"], pg_pid),
        }
        runs: dict[str, list[dict[str, Any]]] = {k: [] for k in figures}
        warm = argparse.Namespace(**{**vars(args), "seconds": args.warmup})
        for key, (nodes, stream, pid) in figures.items():
            lookup_run(key, nodes, stream, pid, warm, work)
        load0 = os.getloadavg()
        order = list(figures)
        for r in range(args.rounds):
            for key in order[r % 3 :] + order[: r % 3]:
                nodes, stream, pid = figures[key]
                res = lookup_run(key, nodes, stream, pid, args, work)
                runs[key].append(res)
                print(
                    f"round {r + 1} {key:>8}: {res['rate']:7.0f}/s p99 {res['p99_ms']:7.1f} ms "
                    f"rdds {res['rdds_us']:6.0f} µs + pg {res['pg_us']:5.0f} µs/answer "
                    f"errors {res['errors']}",
                    flush=True,
                )
        return {
            "replica": str(replica),
            "domains": len(names),
            "load": load,
            "runs": runs,
            "loadavg": [load0, os.getloadavg()],
        }
    finally:
        for p in procs:
            p.stop()


# --- report ----------------------------------------------------------------------------------


def _m(runs: list[dict[str, Any]], key: str) -> float:
    return sb.median([r[key] for r in runs])


def print_report(report: dict[str, Any]) -> None:
    print(f"\ncommand: {report['command']} (commit {report['commit']})")
    print(f"PostgreSQL: {report['pg_settings']}; load average {report['loadavg']}")
    lk = report.get("lookups")
    if lk:
        runs = lk["runs"]
        print(f"\nlookups: {lk['domains']:,} domains, uncached random names, medians")
        table = [["figure", "answers/s", "ratio to sqlite-1", "p99 ms", "rdds CPU µs/answer",
                  "PostgreSQL CPU µs/answer", "total CPU µs/answer", "CPU ratio to sqlite-1",
                  "rdds cores", "PostgreSQL cores"]]  # fmt: skip
        base_rate = _m(runs["sqlite-1"], "rate")
        base_cpu = _m(runs["sqlite-1"], "rdds_us") + _m(runs["sqlite-1"], "pg_us")
        for key, rs in runs.items():
            cpu = _m(rs, "rdds_us") + _m(rs, "pg_us")
            table.append(
                [
                    key,
                    f"{_m(rs, 'rate'):.0f}",
                    f"{_m(rs, 'rate') / base_rate:.2f}",
                    f"{_m(rs, 'p99_ms'):.0f}",
                    f"{_m(rs, 'rdds_us'):.0f}",
                    f"{_m(rs, 'pg_us'):.0f}",
                    f"{cpu:.0f}",
                    f"{base_cpu / cpu:.2f}",
                    f"{_m(rs, 'rdds_cores'):.2f}",
                    f"{_m(rs, 'pg_cores'):.2f}",
                ]
            )
        sb.print_table(table)
        if "pg-1" in runs and "pg-2" in runs:
            print(f"pg-2 / pg-1: {_m(runs['pg-2'], 'rate') / _m(runs['pg-1'], 'rate'):.2f}")
    rows = report.get("import")
    if rows:
        print("\nimport (rdds import into PostgreSQL; wall s, CPU s = importer + server)")
        table = [["domains", "FULL s", "FULL CPU s", "importer peak MiB", "database MiB",
                  "tables MiB", "indexes MiB", "hot indexes MiB", "working copy MiB",
                  "DIFF warm s", "DIFF SQLite s", "DIFF cold s", "DIFF old s",
                  "DIFF rebuild s", "DIFF warm again s"]]  # fmt: skip
        for r in rows:
            s = r["sizes"]

            def w(k: str, r: dict[str, Any] = r) -> str:
                return f"{r[k]['wall_s']:.2f}" if k in r else "-"

            table.append(
                [
                    f"{r['domains']:,}",
                    f"{r['full']['wall_s']:.1f}",
                    f"{r['full']['cpu_s'] + r['full']['pg_cpu_s']:.1f}",
                    f"{r['full']['rss_mib']:.0f}",
                    f"{s['database'] / MiB:.0f}",
                    f"{s['tables'] / MiB:.0f}",
                    f"{s['indexes'] / MiB:.0f}",
                    f"{s['hot_indexes'] / MiB:.0f}",
                    f"{r['sqlite_mib']:.0f}",
                    w("diff_warm"),
                    w("diff_sqlite"),
                    w("diff_cold"),
                    w("diff_old"),
                    w("diff_rebuild"),
                    w("diff_warm_again"),
                ]
            )
        sb.print_table(table)
        ext = report.get("extrapolation")
        if ext:
            print(f"\nat {report['target']:,} domains (linear fit a + b·n; power fit c·n^k):")
            for name, f in ext.items():
                print(
                    f"  {name:>20}: linear {f['linear_at_target']:,.0f}, power "
                    f"{f['power_at_target']:,.0f} (k = {f['k']:.2f})"
                )


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("phase", nargs="?", choices=("lookups", "import", "all"), default="all")
    ap.add_argument("--domains", type=int, default=100_000, help="lookups: replica size")
    ap.add_argument(
        "--sizes",
        type=lambda s: sorted(int(x) for x in s.split(",")),
        default=[10_000, 100_000, 1_000_000],
        help="import: comma-separated sizes (default 10000,100000,1000000)",
    )
    ap.add_argument("--target", type=int, default=11_000_000, help="extrapolate to this size")
    ap.add_argument(
        "--cold-max", type=int, default=100_000, help="import: cold-copy DIFFs up to this size"
    )
    ap.add_argument("--old-rev", help="import: also time this revision's escrow/pg_import.py")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--slice", type=int, default=100_000, help="names handed to one wrk run")
    ap.add_argument("--cache-dir", type=Path, dest="cache", default=None)
    ap.add_argument("--rdds", help="command to run rdds (default: `rdds` beside this Python)")
    ap.add_argument("--show", type=Path, metavar="JSON", help="print a saved run's tables")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.show:
        print_report(json.loads(args.show.read_text(encoding="utf-8")))
        return 0
    args.cache = sb.cache_dir(args.cache)
    args.cache.mkdir(parents=True, exist_ok=True)
    rdds = sb.find_rdds(args.rdds)
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    logdir = OUT / f"pg-logs-{stamp}"
    logdir.mkdir()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    report: dict[str, Any] = {
        "command": " ".join(["bench/pg_bench.py", *sys.argv[1:]]),
        "commit": commit,
        "cores": os.cpu_count(),
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    load0 = os.getloadavg()
    with cluster() as server, tempfile.TemporaryDirectory(prefix="pg-bench-") as tmp:
        work = Path(tmp)
        report["pg_settings"] = settings_of(server.url)
        source = None
        if args.phase in ("import", "all"):
            rows = measure_import(args, server, rdds, work, logdir / "import.log")
            report["import"] = rows
            report["target"] = args.target
            if len(rows) >= 2:
                report["extrapolation"] = extrapolate(rows, args.target)
            if args.phase == "all":
                from escrow import pg_import

                n = args.sizes[-1]
                url = db_url(server, f"size{n}")
                copy = pg_import.work_path(work / f"copy-{n}", url)
                served = work / f"served-{n}.sqlite"
                shutil.copyfile(copy, served)
                source = (served, url)
        if args.phase in ("lookups", "all"):
            report["lookups"] = measure_lookups(args, server, rdds, work, logdir, source)
    report["loadavg"] = [load0, os.getloadavg()]
    out = OUT / f"pg-{stamp}.json"
    out.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    print_report(report)
    print(f"\nsaved: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
