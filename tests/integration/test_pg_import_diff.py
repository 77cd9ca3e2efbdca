"""Incremental imports into PostgreSQL (escrow.pg_import's working copy) against a real
server: a DIFF writes only the rows it touches and leaves the database row for row equal to
a SQLite replica fed the same deposits, whichever importer wrote before, after a load, and
after a commit that failed."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import fcntl
import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from core.lookup import Lookup
from escrow import export, pg_import
from escrow.importer import import_deposits
from rdap.server import make_app
from rdap.settings import RdapConfig
from rdds import cli
from redaction.policy import default_policy
from registry.errors import ReplicaError
from registry.model import PostalInfo
from replica import pg_schema, postgres
from replica.store import open_store
from tests.pgserver import PgServer, new_database

CONFIG = RdapConfig(
    base_url="https://rdap.registry.example/",
    port43="whois.registry.example",
    tos_url="https://registry.example/terms",
)
DAY = dt.datetime(2026, 11, 24, tzinfo=dt.UTC)
COOP_DIFF_ID = "2026112300001"  # the demo's DIFF of .coop (escrow.export._deposit_id)


@pytest.fixture(scope="module")
def deposits(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return export.write_deposits(tmp_path_factory.mktemp("rde"), 300, 1)


@pytest.fixture
async def pg_url(pg_server: PgServer) -> str:
    return await new_database(pg_server)


@dataclasses.dataclass(frozen=True, slots=True)
class Diff:
    """The second .coop DIFF and what it does."""

    path: Path
    changed_domains: frozenset[str]  # rewritten, deleted or replaced by the DIFF
    paths: tuple[str, ...]  # RDAP paths whose answers it changes


def _one(conn: sqlite3.Connection, sql: str, *args: Any) -> Any:
    row = conn.execute(sql, args).fetchone()
    assert row is not None, sql
    return row[0]


async def write_second_diff(replica: Path, out: Path) -> Diff:
    """A DIFF of .coop on top of the demo's, written from the replica's objects: it deletes a
    domain, a host and an administrative contact that other domains still reference; gives a
    contact a new name and email (its search keys change), a host new addresses and a domain
    a new host; and adds a domain that takes the ROID of an existing one (the SQLite
    importer's INSERT OR REPLACE then drops the older domain)."""
    only_coop = (
        "SELECT key FROM claim c WHERE kind = ? AND tld = 'coop' AND NOT EXISTS "
        "(SELECT 1 FROM claim o WHERE o.kind = c.kind AND o.key = c.key AND o.tld != 'coop')"
    )
    plain = (  # .coop domains with host objects only (no host attributes)
        "SELECT name FROM domain d WHERE tld = 'coop' AND NOT EXISTS "
        "(SELECT 1 FROM domain_ns n WHERE n.domain = d.name AND n.addrs IS NOT NULL) "
        "AND EXISTS (SELECT 1 FROM domain_ns n WHERE n.domain = d.name)"
    )
    conn = sqlite3.connect(replica)
    try:
        hosts = [
            r[0]
            for r in conn.execute(
                f"SELECT host FROM domain_ns WHERE addrs IS NULL AND host IN ({only_coop}) "
                "GROUP BY host ORDER BY count(*) DESC, host LIMIT 2",
                ("host",),
            )
        ]
        gone_host, moved_host = hosts
        # An administrative contact; the domains it is the registrant of get another one.
        gone_contact = _one(
            conn,
            f"SELECT contact FROM domain_contact WHERE role = 'administrative' AND contact IN "
            f"({only_coop}) ORDER BY contact LIMIT 1",
            "contact",
        )
        moved = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM domain WHERE registrant = ? ORDER BY name", (gone_contact,)
            )
        ]
        renamed = _one(
            conn,
            f"SELECT registrant FROM domain WHERE tld = 'coop' AND registrant IN ({only_coop}) "
            "AND registrant != ? ORDER BY name LIMIT 1",
            "contact",
            gone_contact,
        )
        names = [r[0] for r in conn.execute(plain + " ORDER BY name")]
        using = {
            r[0]
            for r in conn.execute(
                "SELECT domain FROM domain_ns WHERE host IN (?, ?) UNION "
                "SELECT domain FROM domain_contact WHERE contact = ? UNION "
                "SELECT name FROM domain WHERE registrant = ?",
                (gone_host, moved_host, gone_contact, renamed),
            )
        }
        free = [n for n in names if n not in using and n not in moved]
        gone_domain, new_ns_domain, victim = free[0], free[1], free[2]
    finally:
        conn.close()

    store = await open_store(replica, pool_size=1)
    try:
        contact = (await store.contact(renamed)).contact  # type: ignore[union-attr]
        host = (await store.host(moved_host)).host  # type: ignore[union-attr]
        domain = (await store.domain(new_ns_domain)).domain  # type: ignore[union-attr]
        taken = (await store.domain(victim)).domain  # type: ignore[union-attr]
        registered = [
            (await store.domain(n)).domain  # type: ignore[union-attr]
            for n in moved
        ]
    finally:
        await store.close()
    postal = tuple(
        dataclasses.replace(p, name="Quinn Renamed", street=("9 New Street",))
        for p in contact.postal
    ) or (PostalInfo(type="int", name="Quinn Renamed", street=("9 New Street",), city="X"),)
    contact = dataclasses.replace(contact, postal=postal, email="quinn@renamed.example")
    host = dataclasses.replace(host, v4=("192.0.2.77",), v6=("2001:db8::77",), updated=DAY)
    new_host = dataclasses.replace(host, name="ns7.fresh-host.example", roid="HNEW7-COOP")
    domain = dataclasses.replace(domain, nameservers=(new_host.name, moved_host), updated=DAY)
    taker = dataclasses.replace(taken, name="roid-taker.coop", unicode_name=None, created=DAY)

    path = out / "coop_2026-11-24_diff_S1_R0.xml"
    deletes = (
        f"<rdeDomain:delete><rdeDomain:name>{gone_domain}</rdeDomain:name></rdeDomain:delete>",
        f"<rdeHost:delete><rdeHost:name>{gone_host}</rdeHost:name></rdeHost:delete>",
        f"<rdeContact:delete><rdeContact:id>{gone_contact}</rdeContact:id></rdeContact:delete>",
    )
    contents = [export.contact_xml(contact), export.host_xml(host), export.host_xml(new_host)]
    contents += [export.domain_xml(domain), export.domain_xml(taker)]
    contents += [
        export.domain_xml(dataclasses.replace(d, registrant=renamed, updated=DAY))
        for d in registered
    ]
    _write_diff(path, deletes, contents)
    touched = {gone_domain, new_ns_domain, victim, taker.name, *moved}
    paths = [f"/domain/{n}" for n in sorted(touched | using)]
    paths += [f"/nameserver/{h}" for h in (gone_host, moved_host, new_host.name)]
    paths += [f"/entity/{c}" for c in (gone_contact, renamed)]
    paths += ["/nameservers?ip=192.0.2.77", "/entities?fn=Quinn*"]
    return Diff(path, frozenset(touched), tuple(paths))


def _write_diff(path: Path, deletes: tuple[str, ...], contents: list[str]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        export.open_deposit(fh, "DIFF", "2026112400001", DAY, COOP_DIFF_ID)
        fh.write("<rde:deletes>\n" + "\n".join(deletes) + "\n</rde:deletes>\n<rde:contents>\n")
        fh.writelines(contents)
        fh.write(export.header_xml("coop", {}))
        fh.write("</rde:contents>\n</rde:deposit>\n")


# --- comparing stores ----------------------------------------------------------------------


def _kept(table: str, cols: list[str]) -> list[str]:
    # When a deposit was applied differs between two imports; everything else must not.
    return [c for c in cols if not (table == "deposit" and c == "applied")]


def sqlite_rows(replica: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(replica)
    try:
        out = {}
        for table, _ in pg_schema.TABLES:
            cols = _kept(table, [r[1] for r in conn.execute(f"PRAGMA table_info({table})")])
            listed = ", ".join(f'"{c}"' for c in cols)
            out[table] = sorted(conn.execute(f"SELECT {listed} FROM {table}").fetchall(), key=repr)
        return out
    finally:
        conn.close()


async def pg_rows(url: str, like: Path) -> dict[str, list[tuple[Any, ...]]]:
    lite = sqlite3.connect(like)
    pg = await asyncpg.connect(url)
    try:
        out = {}
        for table, _ in pg_schema.TABLES:
            cols = _kept(table, [r[1] for r in lite.execute(f"PRAGMA table_info({table})")])
            listed = ", ".join(f'"{c}"' for c in cols)
            rows = [tuple(r) for r in await pg.fetch(f"SELECT {listed} FROM {table}")]
            out[table] = sorted(rows, key=repr)
        return out
    finally:
        await pg.close()
        lite.close()


async def rdap_answers(store: Any, paths: tuple[str, ...]) -> dict[str, tuple[int, bytes]]:
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


async def assert_same(url: str, replica: Path, paths: tuple[str, ...] = ()) -> None:
    want, got = sqlite_rows(replica), await pg_rows(url, replica)
    for table, _ in pg_schema.TABLES:
        assert got[table] == want[table], table
    if paths:
        lite = await open_store(replica, pool_size=1)
        pg = await postgres.open_store(url, pool_size=1, listen=False)
        try:
            assert pg.info == lite.info
            assert await rdap_answers(pg, paths) == await rdap_answers(lite, paths)
        finally:
            await pg.close()
            await lite.close()


def _split(deposits: list[Path]) -> tuple[list[Path], list[Path]]:
    diffs = [p for p in deposits if "_diff_" in p.name]
    return [p for p in deposits if p not in diffs], diffs


@pytest.fixture
async def sqlite_side(deposits: list[Path], tmp_path: Path) -> tuple[Path, Diff]:
    """A SQLite replica fed the demo deposits and then the second DIFF, and that DIFF."""
    replica = tmp_path / "replica.sqlite"
    import_deposits(replica, deposits)
    diff = await write_second_diff(replica, tmp_path)
    result = import_deposits(replica, [diff.path])
    assert result.applied[0].warnings >= 2  # the deleted host and contact are still referenced
    return replica, diff


# --- the tests -----------------------------------------------------------------------------


async def test_a_diff_writes_only_what_it_touches_and_gives_the_sqlite_rows(
    deposits: list[Path], pg_url: str, tmp_path: Path, sqlite_side: tuple[Path, Diff]
) -> None:
    replica, diff = sqlite_side
    fulls, diffs = _split(deposits)
    work = tmp_path / "work"
    said: list[str] = []
    await pg_import.import_into(pg_url, fulls, work_dir=work, report=said.append)
    await pg_import.import_into(pg_url, diffs, work_dir=work, report=said.append)
    assert sum("rebuilding" in line for line in said) == 1  # the first import only
    pg = await asyncpg.connect(pg_url)
    try:
        before = dict(await pg.fetch("SELECT name, xmin::text FROM domain"))
        said.clear()
        await pg_import.import_into(pg_url, [diff.path], work_dir=work, report=said.append)
        after = dict(await pg.fetch("SELECT name, xmin::text FROM domain"))
    finally:
        await pg.close()
    assert not any("rebuilding" in line for line in said)
    # Rows the DIFF did not touch were not rewritten (same inserting transaction).
    rewritten = {n for n in before.keys() | after.keys() if before.get(n) != after.get(n)}
    assert rewritten == diff.changed_domains
    await assert_same(pg_url, replica, diff.paths)


async def test_importers_with_their_own_working_copies_take_turns(
    deposits: list[Path], pg_url: str, tmp_path: Path, sqlite_side: tuple[Path, Diff]
) -> None:
    replica, diff = sqlite_side
    fulls, diffs = _split(deposits)
    said: list[str] = []
    await pg_import.import_into(pg_url, fulls, work_dir=tmp_path / "a")
    await pg_import.import_into(pg_url, diffs, work_dir=tmp_path / "b")
    # a's copy misses b's DIFFs: it is rebuilt, not trusted (else the chain would refuse).
    await pg_import.import_into(pg_url, [diff.path], work_dir=tmp_path / "a", report=said.append)
    assert any("rebuilding" in line for line in said)
    await assert_same(pg_url, replica, diff.paths)


async def test_a_failed_commit_changes_nothing_and_the_next_import_rebuilds(
    deposits: list[Path], pg_url: str, tmp_path: Path, sqlite_side: tuple[Path, Diff]
) -> None:
    replica, diff = sqlite_side
    work = tmp_path / "work"
    await pg_import.import_into(pg_url, deposits, work_dir=work)
    pg = await asyncpg.connect(pg_url)
    try:
        # A constraint checked at COMMIT refuses the next import's transaction there, after
        # every row was written and the working copy took the new token.
        await pg.execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$; "
            "CREATE CONSTRAINT TRIGGER refuse AFTER INSERT ON meta DEFERRABLE INITIALLY "
            "DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse()"
        )
        with pytest.raises(ReplicaError, match="nothing committed"):
            await pg_import.import_into(pg_url, [diff.path], work_dir=work)
        assert await pg.fetchval("SELECT count(*) FROM deposit") == len(deposits)
        await pg.execute("DROP TRIGGER refuse ON meta")
    finally:
        await pg.close()
    said: list[str] = []
    await pg_import.import_into(pg_url, [diff.path], work_dir=work, report=said.append)
    assert any("rebuilding" in line for line in said)
    await assert_same(pg_url, replica, diff.paths)


async def test_the_working_copy_is_private_and_rebuilt_after_a_load(
    deposits: list[Path], pg_url: str, tmp_path: Path, sqlite_side: tuple[Path, Diff]
) -> None:
    replica, diff = sqlite_side
    fulls, diffs = _split(deposits)
    work = tmp_path / "work"
    await pg_import.import_into(pg_url, fulls, work_dir=work)
    copy = pg_import.work_path(work, pg_url)
    assert stat.S_IMODE(os.stat(copy).st_mode) == 0o600  # it holds every contact's data
    assert stat.S_IMODE(os.stat(work).st_mode) == 0o700
    conn = sqlite3.connect(copy)
    try:  # statistics for the importer's queries, as an import-built replica has
        assert conn.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'domain'").fetchone()[0]
    finally:
        conn.close()
    loaded = tmp_path / "loaded.sqlite"
    import_deposits(loaded, deposits)
    await pg_import.load(pg_url, loaded)  # moves the database past the copy
    said: list[str] = []
    await pg_import.import_into(pg_url, [diff.path], work_dir=work, report=said.append)
    assert any("rebuilding" in line for line in said)
    await assert_same(pg_url, replica, diff.paths)
    assert diffs


async def test_cli_work_dir(
    deposits: list[Path],
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fulls, diffs = _split(deposits)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    argv = ["import", "--replica", pg_url, "--work-dir", str(blocker / "w"), str(fulls[0])]
    assert await asyncio.to_thread(cli.main, argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("rdds import: working copy directory ")
    # The default directory unusable: the import still runs, on a temporary copy, and says so.
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    argv = ["import", "--replica", pg_url, *map(str, fulls)]
    assert await asyncio.to_thread(cli.main, argv) == 0
    assert "reads the whole replica" in capsys.readouterr().err
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    argv = ["import", "--quiet", "--replica", pg_url, *map(str, diffs)]
    assert await asyncio.to_thread(cli.main, argv) == 0
    assert pg_import.work_path(tmp_path / "cache" / "rdds" / "import", pg_url).exists()


async def test_a_working_copy_in_use_or_in_an_open_directory_is_refused(
    deposits: list[Path], pg_url: str, tmp_path: Path
) -> None:
    """GIVEN another import holding the working copy's lock THEN this one is refused with one
    line (its thread may still write the copy after the database's lock went); GIVEN a work
    directory others may write THEN refused (a planted -wal file would bypass the triggers).
    Mutations: drop `_exclusive` -> the import runs; drop `_unsafe` -> the import runs."""
    fulls, _ = _split(deposits)
    work = tmp_path / "work"
    work.mkdir(mode=0o700)
    copy = pg_import.work_path(work, pg_url)
    fd = os.open(f"{copy}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(ReplicaError, match="is in use by another import"):
            await pg_import.import_into(pg_url, fulls, work_dir=work)
    finally:
        os.close(fd)
    os.chmod(work, 0o777)
    with pytest.raises(ReplicaError, match="writable by group or others"):
        await pg_import.import_into(pg_url, fulls, work_dir=work)
    os.chmod(work, 0o700)
    await pg_import.import_into(pg_url, fulls, work_dir=work)
    assert copy.exists()


def test_no_home_directory_means_a_temporary_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN no XDG_CACHE_HOME and no home directory (a container's arbitrary uid) THEN no
    default work directory (a temporary copy), not an internal error."""
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert pg_import.default_work_dir() is None
