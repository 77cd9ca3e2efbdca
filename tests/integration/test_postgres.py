"""The PostgreSQL replica against a real server: schema, import through the SQLite importer
(chain rules, all-or-nothing, generation and NOTIFY), and answers byte-identical to the
SQLite store's for every showcase object and error path, over RDAP and WHOIS."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from core.lookup import Lookup
from escrow import export, pg_import
from escrow.importer import ImportFailed, import_deposits
from rdap.server import make_app
from rdap.settings import RdapConfig
from rdds import cli, service
from rdds.config import Settings
from redaction.policy import default_policy
from registry.errors import ReplicaError
from replica import open as replica_open
from replica import pg_schema, postgres
from replica.postgres import PostgresStore
from replica.store import SqliteStore, open_store
from tests.pgserver import PgServer, new_database
from tests.whois_support import SHOWCASE, TEST_SETTINGS, ask
from whois43 import server as whois_server

BASE = "https://rdap.registry.example/"
CONFIG = RdapConfig(
    base_url=BASE, port43="whois.registry.example", tos_url="https://registry.example/terms"
)

ERROR_PATHS = (
    "/domain/nosuchname.coop",
    "/domain/example.com",
    "/domain/www.example.coop",
    "/domain/exa%20mple.coop",
    "/domain/xn--zz.coop",
    "/nameserver/ns9.nowhere.coop",
    "/nameserver/-bad-.coop",
    "/entity/NO-SUCH-HANDLE",
    "/entity/424242",
    "/entity/99999999999999999999999",
    "/entity/bad%20handle",
    "/nameservers?ip=192.0.2.1",
    "/nameservers?ip=not-an-ip",
    "/entities?fn=x*",
    "/ip/192.0.2.1",
    "/",
    "/nonsense",
    "/help",
)


@pytest.fixture(scope="session")
def deposits(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return export.write_deposits(tmp_path_factory.mktemp("rde"), 300, 1)


@pytest.fixture
async def pg_url(pg_server: PgServer) -> str:
    return await new_database(pg_server)


def paths_for(replica: Path) -> list[str]:
    """Every showcase object, a sample of the rest, and the error paths."""
    conn = sqlite3.connect(replica)
    try:
        domains = [r[0] for r in conn.execute("SELECT name FROM domain ORDER BY name LIMIT 25")]
        contacts = [r[0] for r in conn.execute("SELECT id FROM contact ORDER BY id LIMIT 25")]
        hosts = [r[0] for r in conn.execute("SELECT name FROM host ORDER BY name LIMIT 10")]
        ips = [r[0] for r in conn.execute("SELECT DISTINCT ip FROM host_addr LIMIT 5")]
        rars = conn.execute("SELECT id, iana_id, name FROM registrar").fetchall()
    finally:
        conn.close()
    out = [f"/domain/{d}" for d in (*SHOWCASE, *domains)]
    out += [f"/entity/{h}" for h in contacts] + [f"/entity/{h.lower()}" for h in contacts[:5]]
    out += [f"/nameserver/{h}" for h in hosts] + [f"/nameservers?ip={ip}" for ip in ips]
    for rid, iana, name in rars:
        out += [f"/entity/{rid}", f"/entity/{rid.lower()}", f"/entities?fn={name}"]
        if iana is not None:
            out.append(f"/entity/{iana}")
    return [*out, *ERROR_PATHS]


async def answers(store: Any, paths: list[str]) -> dict[str, tuple[int, bytes]]:
    client = TestClient(TestServer(make_app(Lookup(store, default_policy()), CONFIG)))
    await client.start_server()
    try:
        out = {}
        for path in paths:
            async with client.get(path) as resp:
                out[path] = (resp.status, await resp.read())
        return out
    finally:
        await client.close()


async def whois_answers(store: Any, queries: list[str]) -> dict[str, bytes]:
    server = await whois_server.start(Lookup(store, default_policy()), TEST_SETTINGS, "127.0.0.1")
    try:
        return {q: await ask(server.port, q.encode() + b"\r\n") for q in queries}
    finally:
        await server.close()


@pytest.fixture
async def both(
    deposits: list[Path], pg_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Path, SqliteStore, PostgresStore]]:
    """The demo deposits imported into a SQLite replica and into PostgreSQL."""
    replica = tmp_path / "replica.sqlite"
    import_deposits(replica, deposits)
    await pg_import.import_into(pg_url, deposits)
    lite = await open_store(replica, pool_size=2)
    pg = await postgres.open_store(pg_url, pool_size=2)
    try:
        yield replica, lite, pg
    finally:
        await pg.close()
        await lite.close()


async def test_rdap_answers_are_byte_identical(
    both: tuple[Path, SqliteStore, PostgresStore],
) -> None:
    replica, lite, pg = both
    assert pg.info == lite.info and await pg.tlds() == await lite.tlds()
    paths = paths_for(replica)
    want, got = await answers(lite, paths), await answers(pg, paths)
    assert {s for s, _ in want.values()} >= {200, 400, 404, 501}  # every kind of answer
    for path in paths:
        assert got[path] == want[path], path


async def test_whois_answers_are_byte_identical(
    both: tuple[Path, SqliteStore, PostgresStore],
) -> None:
    replica, lite, pg = both
    conn = sqlite3.connect(replica)
    try:
        hosts = [r[0] for r in conn.execute("SELECT name FROM host ORDER BY name LIMIT 5")]
        rars = [r[0] for r in conn.execute("SELECT name FROM registrar ORDER BY id")]
    finally:
        conn.close()
    queries = [*SHOWCASE, *(f"nameserver {h}" for h in hosts), *(f"registrar {n}" for n in rars)]
    queries += ["nosuchname.coop", "example.com", "bad..name", "nameserver ns9.nowhere.coop", ""]
    want, got = await whois_answers(lite, queries), await whois_answers(pg, queries)
    for q in queries:
        assert got[q] == want[q], q


async def test_loading_a_sqlite_replica_gives_the_same_rows(
    demo_replica: Path, pg_url: str
) -> None:
    generation = await pg_import.load(pg_url, demo_replica)
    lite = await open_store(demo_replica, pool_size=1)
    pg = await postgres.open_store(pg_url, pool_size=1)
    try:
        assert pg.info == lite.info and pg.info.generation == generation
        for name in SHOWCASE:
            assert await pg.domain(name) == await lite.domain(name), name
    finally:
        await pg.close()
        await lite.close()


async def test_chain_rules_hold_and_a_failed_deposit_changes_nothing(
    deposits: list[Path], pg_url: str
) -> None:
    diffs = [p for p in deposits if "diff" in p.name.lower()]
    assert diffs
    with pytest.raises(ImportFailed):  # a DIFF without its FULL: refused, as in SQLite
        await pg_import.import_into(pg_url, diffs[:1])
    conn = await asyncpg.connect(pg_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM domain") == 0
        assert await conn.fetchval("SELECT value FROM meta WHERE key = 'generation'") == "0"
    finally:
        await conn.close()
    fulls = [p for p in deposits if p not in diffs]
    first = await pg_import.import_into(pg_url, fulls)
    assert first == len(fulls)
    with pytest.raises(ImportFailed):  # the same FULLs again: refused by the chain rules
        await pg_import.import_into(pg_url, fulls[:1])
    assert await pg_import.import_into(pg_url, diffs) == first + len(diffs)


async def test_a_new_generation_is_notified_and_visible_at_once(
    deposits: list[Path], pg_url: str
) -> None:
    diffs = [p for p in deposits if "diff" in p.name.lower()]
    await pg_import.import_into(pg_url, [p for p in deposits if p not in diffs])
    store = await postgres.open_store(pg_url, pool_size=1)
    heard = asyncio.Event()
    store.on_notify(heard.set)
    try:
        before = store.info.generation
        await pg_import.import_into(pg_url, diffs)
        await asyncio.wait_for(heard.wait(), 10)
        assert await store.refresh() is True
        assert store.info.generation == before + len(diffs)
    finally:
        await store.close()


async def test_the_store_is_read_only(pg_url: str) -> None:
    await pg_schema.create_url(pg_url)
    store = await postgres.open_store(pg_url, pool_size=1, listen=False)
    try:
        async with store._conn() as conn:
            with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
                await conn.execute("DELETE FROM domain")
    finally:
        await store.close()


async def test_clear_errors_for_what_is_not_a_replica(pg_server: PgServer, pg_url: str) -> None:
    with pytest.raises(ReplicaError, match="no meta table; run rdds db init"):
        await postgres.open_store(pg_url)
    bad = f"postgresql://rdds:secret@127.0.0.1:{pg_server.port}/no_such_db"
    with pytest.raises(ReplicaError, match="cannot connect") as info:
        await postgres.open_store(bad)
    assert "secret" not in str(info.value)


async def test_lookups_during_an_outage_are_replica_errors_then_recover(
    pg_server: PgServer, deposits: list[Path], pg_url: str
) -> None:
    await pg_import.import_into(pg_url, deposits[:1])
    store = await postgres.open_store(pg_url, pool_size=2)
    try:
        assert await store.domain("nosuchname.coop") is None
        pg_server.stop("fast")
        try:
            with pytest.raises(ReplicaError):
                await store.domain("nosuchname.coop")
            with pytest.raises(ReplicaError):
                await store.refresh()
        finally:
            pg_server.start()
        assert await store.domain("nosuchname.coop") is None  # no restart of the store
        await store.refresh()
    finally:
        await store.close()


async def test_cli_init_import_and_two_nodes_learn_a_diff_by_notify(
    deposits: list[Path], pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    diffs = [p for p in deposits if "diff" in p.name.lower()]
    fulls = [p for p in deposits if p not in diffs]
    before, after = tmp_path / "before.sqlite", tmp_path / "after.sqlite"
    import_deposits(before, fulls)
    import_deposits(after, deposits)
    gone = _names(before) - _names(after)
    assert gone  # the DIFFs delete something
    name = min(gone)

    assert await asyncio.to_thread(cli.main, ["db", "init", "--replica", pg_url]) == 0
    work = ["--work-dir", str(tmp_path / "work")]
    argv = ["import", "--quiet", *work, "--replica", pg_url, *map(str, fulls)]
    assert await asyncio.to_thread(cli.main, argv) == 0
    # Polling once an hour: only the notification can make the nodes see the DIFF.
    settings = Settings(replica=replica_open.parse(pg_url))
    settings = replace(
        settings,
        rdap=replace(settings.rdap, port=0, refresh_seconds=3600.0),
        whois=replace(settings.whois, enabled=False),
        metrics=replace(settings.metrics, port=0),
    )
    nodes = [await service.start(settings), await service.start(settings)]
    try:
        async with aiohttp.ClientSession() as http:
            for node in nodes:
                async with http.get(f"http://127.0.0.1:{node.rdap_port}/domain/{name}") as r:
                    assert r.status == 200
            argv = ["import", "--quiet", *work, "--replica", pg_url, *map(str, diffs)]
            assert await asyncio.to_thread(cli.main, argv) == 0
            for node in nodes:
                status = 200
                for _ in range(200):  # each node refreshes when it hears the NOTIFY
                    async with http.get(f"http://127.0.0.1:{node.rdap_port}/domain/{name}") as r:
                        status = r.status
                    if status == 404:
                        break
                    await asyncio.sleep(0.05)
                assert status == 404
                assert node.store.info.generation == len(deposits)
    finally:
        for node in nodes:
            await node.close()
    capsys.readouterr()


async def test_cli_errors_are_one_line(
    pg_server: PgServer, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = f"postgresql://rdds:secret@127.0.0.1:{pg_server.port}/no_such_db"
    assert await asyncio.to_thread(cli.main, ["db", "init", "--replica", bad]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no_such_db" in err and "secret" not in err
    assert await asyncio.to_thread(cli.main, ["import", "--replica", bad, "x.xml"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot connect" in err and "secret" not in err


def _names(replica: Path) -> set[str]:
    conn = sqlite3.connect(replica)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM domain")}
    finally:
        conn.close()
