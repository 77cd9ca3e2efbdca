"""Nodes on a primary and a streaming standby, and what failures do (docs/scale-out.md): a
real primary and a hot standby made by `pg_basebackup -R` (tests/pgserver.py). A DIFF
imported once on the primary reaches a node on the primary (NOTIFY) and a node on the
standby (polling: a standby refuses LISTEN); a standby whose replay is paused shows its lag
in the metrics and in /readyz; a PostgreSQL outage makes a node answer 503 (RDAP error JSON,
one WHOIS error line) and the node recovers without a restart, while nodes on the other
server keep answering; an importer killed mid-import commits nothing.

Mutations that fail these tests: REFRESH_SQL's idle branch removed (an idle standby reads
"now minus the last commit" as lag); `Health.ready` not consulting `replication_lag`; the
refresh trying LISTEN on a standby at every poll.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import aiohttp
import asyncpg
import orjson
import pytest

from escrow import export, pg_import
from escrow.importer import import_deposits
from rdds import cli, service
from rdds.config import Settings
from replica import open as replica_open
from replica import postgres
from tests import pgserver
from tests.integration.processes import ROOT, environment
from tests.pgserver import PgServer, new_database
from tests.whois_support import ask

#: Bounded waits (iterations of 50 ms) for what happens in the background: never a timing
#: assertion, only an upper bound so that a broken build fails instead of hanging.
TRIES = 400

UNAVAILABLE = b"Error: The registry data is temporarily unavailable; try again later.\r\n"


@pytest.fixture(scope="module")
def deposits(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return export.write_deposits(tmp_path_factory.mktemp("rde"), 200, 3)


def split(deposits: list[Path]) -> tuple[list[Path], list[Path]]:
    """The FULLs and the DIFFs."""
    diffs = [p for p in deposits if "diff" in p.name.lower()]
    return [p for p in deposits if p not in diffs], diffs


def url(server: PgServer, database: str) -> str:
    return server.url.rsplit("/", 1)[0] + "/" + database


@pytest.fixture
async def database(
    pg_server: PgServer, pg_standby: PgServer, deposits: list[Path]
) -> AsyncIterator[str]:
    """A fresh database on the primary with the FULLs imported, replayed by the standby."""
    name = (await new_database(pg_server, "s")).rsplit("/", 1)[1]
    await pg_import.import_into(url(pg_server, name), split(deposits)[0])
    await asyncio.to_thread(pgserver.wait_replayed, pg_server, pg_standby)
    yield name


def deleted_by_diffs(deposits: list[Path], tmp_path: Path) -> str:
    """A domain the FULLs have and the DIFFs delete."""
    fulls, _ = split(deposits)
    before, after = tmp_path / "before.sqlite", tmp_path / "after.sqlite"
    import_deposits(before, fulls)
    import_deposits(after, deposits)
    gone = _names(before) - _names(after)
    assert gone
    return min(gone)


def _names(replica: Path) -> set[str]:
    conn = sqlite3.connect(replica)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM domain")}
    finally:
        conn.close()


def node_settings(replica: str, refresh: float, **health: float) -> Settings:
    """A node on `replica` on free ports, without rate limits; the demo deposits' watermark
    is in the past, so the replica-age limit is out of the way unless `health` sets it."""
    settings = Settings(replica=replica_open.parse(replica))
    health = {"max_replica_age": 1e10, **health}
    return replace(
        settings,
        rdap=replace(settings.rdap, port=0, refresh_seconds=refresh, rate_limit=False),
        whois=replace(settings.whois, port=0, rate_per_second=1000.0, rate_burst=1000),
        metrics=replace(settings.metrics, port=0),
        health=replace(settings.health, **health),
    )


async def until(check: Callable[[], Awaitable[bool]]) -> bool:
    """Poll `check` until it holds (True) or the bounded wait ends (False)."""
    for _ in range(TRIES):
        if await check():
            return True
        await asyncio.sleep(0.05)
    return False


async def status(http: aiohttp.ClientSession, port: int, path: str) -> int:
    async with http.get(f"http://127.0.0.1:{port}{path}") as resp:
        await resp.read()
        return resp.status


async def lag_gauge(http: aiohttp.ClientSession, node: service.Running) -> float:
    async with http.get(f"http://127.0.0.1:{node.metrics_port}/metrics") as resp:
        text = await resp.text()
    found = re.search(r"^rdds_replica_replication_lag_seconds (\S+)$", text, re.M)
    assert found is not None, "the lag gauge is exported"
    return float(found.group(1))


async def test_a_store_on_the_standby_polls_sees_replayed_generations_and_reads_no_lag_when_idle(
    pg_server: PgServer, pg_standby: PgServer, database: str, deposits: list[Path]
) -> None:
    log = pg_standby.datadir / "server.log"
    refused = "cannot execute LISTEN during recovery"
    refused_before = log.read_text(errors="replace").count(refused)
    primary = await postgres.open_store(url(pg_server, database), pool_size=1)
    store = await postgres.open_store(url(pg_standby, database), pool_size=1)
    try:
        assert primary.replication_lag is None  # a primary has no replay lag
        assert store.info == primary.info
        # Idle primary, standby caught up: no lag, however long ago the last commit was.
        assert await until(lambda: _lag_is(store, 0.0))
        await pg_import.import_into(url(pg_server, database), split(deposits)[1])
        await asyncio.to_thread(pgserver.wait_replayed, pg_server, pg_standby)
        assert await store.refresh() is True  # polling sees the replayed generation
        assert store.info.generation == len(deposits)
        for _ in range(5):
            await store.refresh()
    finally:
        await store.close()
        await primary.close()
    # LISTEN is tried once (the first refresh learns it is a standby), never at every poll.
    assert log.read_text(errors="replace").count(refused) - refused_before <= 1


async def _lag_is(store: postgres.PostgresStore, want: float) -> bool:
    await store.refresh()
    return store.replication_lag == want


async def test_a_diff_imported_once_reaches_a_node_on_the_primary_and_one_on_the_standby(
    pg_server: PgServer,
    pg_standby: PgServer,
    database: str,
    deposits: list[Path],
    tmp_path: Path,
) -> None:
    gone = deleted_by_diffs(deposits, tmp_path)
    # The primary's node polls once an hour (it hears the NOTIFY); the standby's node hears
    # nothing (NOTIFY does not cross a streaming replica) and polls every 0.2 s.
    on_primary = await service.start(node_settings(url(pg_server, database), 3600.0))
    on_standby = await service.start(node_settings(url(pg_standby, database), 0.2))
    nodes = (on_primary, on_standby)
    try:
        async with aiohttp.ClientSession() as http:
            for node in nodes:
                assert await status(http, node.rdap_port, f"/domain/{gone}") == 200
            await pg_import.import_into(url(pg_server, database), split(deposits)[1])
            for node in nodes:
                port = node.rdap_port
                assert await until(
                    lambda: _status_is(http, port, f"/domain/{gone}", 404)  # noqa: B023
                )
                assert node.whois_port is not None
                got = await ask(node.whois_port, gone.encode() + b"\r\n")
                assert got.startswith(b"No match for"), got[:80]
                assert node.store.info.generation == len(deposits)
    finally:
        for node in nodes:
            await node.close()


async def _status_is(http: aiohttp.ClientSession, port: int, path: str, want: int) -> bool:
    return await status(http, port, path) == want


async def test_a_lagging_standby_shows_in_the_metrics_and_readiness(
    pg_server: PgServer,
    pg_standby: PgServer,
    database: str,
    deposits: list[Path],
    tmp_path: Path,
) -> None:
    gone = deleted_by_diffs(deposits, tmp_path)
    node = await service.start(
        node_settings(url(pg_standby, database), 0.1, max_replication_lag=0.0)
    )
    ready = f"http://127.0.0.1:{node.metrics_port}/readyz"
    try:
        async with aiohttp.ClientSession() as http:

            async def readiness() -> tuple[int, str]:
                async with http.get(ready) as resp:
                    return resp.status, await resp.text()

            async def ready_is(want: int) -> bool:
                return (await readiness())[0] == want

            assert await until(lambda: ready_is(200))
            assert await lag_gauge(http, node) == 0.0
            pg_standby.psql("SELECT pg_wal_replay_pause()")
            try:
                await pg_import.import_into(url(pg_server, database), split(deposits)[1])
                await asyncio.to_thread(pgserver.wait_received, pg_server, pg_standby)
                assert await until(lambda: ready_is(503))
                reason = (await readiness())[1]
                assert reason.startswith("not ready: replica is lagging: the standby's replay")
                assert await lag_gauge(http, node) > 0.0
                # Still served (stale beats none), from the generation replayed so far.
                assert await status(http, node.rdap_port, f"/domain/{gone}") == 200
            finally:
                pg_standby.psql("SELECT pg_wal_replay_resume()")
            assert await until(lambda: _status_is(http, node.rdap_port, f"/domain/{gone}", 404))
            assert await until(lambda: ready_is(200))
            assert await lag_gauge(http, node) == 0.0
    finally:
        await node.close()


async def test_an_outage_answers_503_on_its_nodes_only_and_they_recover_without_a_restart(
    pg_server: PgServer, pg_standby: PgServer, database: str
) -> None:
    on_primary = await service.start(node_settings(url(pg_server, database), 0.1))
    on_standby = await service.start(node_settings(url(pg_standby, database), 0.1))
    asked = iter(range(10**6))
    try:
        async with aiohttp.ClientSession() as http:
            for down, node, other in (
                (pg_server, on_primary, on_standby),
                (pg_standby, on_standby, on_primary),
            ):
                down.stop("fast")
                try:
                    await _expect_unavailable(http, node, f"outage-{next(asked)}.coop")
                    async with http.get(f"http://127.0.0.1:{node.metrics_port}/readyz") as r:
                        assert r.status == 503 or await until(
                            lambda: _ready_status(http, node, 503)  # noqa: B023
                        )
                    # The other server's node keeps answering (a fresh, uncached name) and
                    # stays ready: a standby cut off from its primary has replayed all it got.
                    name = f"outage-{next(asked)}.coop"
                    assert await status(http, other.rdap_port, f"/domain/{name}") == 404
                    assert await _ready_status(http, other, 200)
                finally:
                    down.start()
                name = f"outage-{next(asked)}.coop"
                assert await until(
                    lambda: _status_is(http, node.rdap_port, f"/domain/{name}", 404)  # noqa: B023
                )
                assert await until(lambda: _ready_status(http, node, 200))  # noqa: B023
                assert node.whois_port is not None
                got = await ask(node.whois_port, f"outage-{next(asked)}.coop\r\n".encode())
                assert got.startswith(b"No match for"), got[:80]
    finally:
        for node in (on_primary, on_standby):
            await node.close()
        await asyncio.to_thread(pgserver.wait_replayed, pg_server, pg_standby)


async def _ready_status(http: aiohttp.ClientSession, node: service.Running, want: int) -> bool:
    async with http.get(f"http://127.0.0.1:{node.metrics_port}/readyz") as resp:
        await resp.read()
        return resp.status == want


async def _expect_unavailable(
    http: aiohttp.ClientSession, node: service.Running, name: str
) -> None:
    """RDAP: 503 with an RFC 9083 error body; WHOIS: the one error line."""
    async with http.get(f"http://127.0.0.1:{node.rdap_port}/domain/{name}") as resp:
        assert resp.status == 503
        assert resp.content_type == "application/rdap+json"
        body = orjson.loads(await resp.read())
        assert body["errorCode"] == 503 and body["title"] == "Service Unavailable"
    assert node.whois_port is not None
    assert await ask(node.whois_port, f"{name}\r\n".encode()) == UNAVAILABLE


async def test_an_importer_killed_mid_import_commits_nothing_and_the_next_import_runs(
    pg_server: PgServer,
    pg_standby: PgServer,
    database: str,
    deposits: list[Path],
    tmp_path: Path,
) -> None:
    gone = deleted_by_diffs(deposits, tmp_path)
    diffs = [str(p) for p in split(deposits)[1]]
    primary_url = url(pg_server, database)
    store = await postgres.open_store(url(pg_standby, database), pool_size=1)
    before = store.info
    holder = await asyncpg.connect(primary_url)
    importer: asyncio.subprocess.Process | None = None
    try:
        # GIVEN an import stopped mid-way: its transaction has written the other tables and
        # waits to write the deposit chain, which this session holds in SHARE mode
        tx = holder.transaction()
        await tx.start()
        await holder.execute("LOCK TABLE deposit IN SHARE MODE")
        importer = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "rdds", "import", "--quiet", "--work-dir", str(tmp_path / "work")),
            *("--replica", primary_url, *diffs),
            cwd=ROOT,
            env=environment(),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        waiting = (
            "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'deposit'::regclass"
        )
        assert await until(lambda: _fetch_is(holder, waiting, 1))
        # WHEN the importer dies (SIGKILL: no cleanup of its own)
        importer.kill()
        await importer.wait()
        await tx.rollback()
        importer_gone = (
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        assert await until(lambda: _fetch_is(holder, importer_gone, 0))
        # THEN nothing of it was committed (the standby replays nothing new either) ...
        await asyncio.to_thread(pgserver.wait_replayed, pg_server, pg_standby)
        assert await store.refresh() is False and store.info == before
        assert await store.domain(gone) is not None
        # ... and the import lock died with it: the next import runs and commits
        done = await asyncio.to_thread(
            # (with the working copy the killed import left unfinished: it is rebuilt)
            cli.main,
            [
                "import",
                "--quiet",
                "--work-dir",
                str(tmp_path / "work"),
                "--replica",
                primary_url,
                *diffs,
            ],
        )
        assert done == 0
        await asyncio.to_thread(pgserver.wait_replayed, pg_server, pg_standby)
        assert await store.refresh() is True and store.info.generation == len(deposits)
        assert await store.domain(gone) is None
    finally:
        if importer is not None and importer.returncode is None:
            importer.kill()
            await importer.wait()
        await holder.close()
        await store.close()


async def _fetch_is(conn: asyncpg.Connection, sql: str, want: int) -> bool:
    return bool(await conn.fetchval(sql) == want)
