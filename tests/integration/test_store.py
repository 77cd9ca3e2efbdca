"""The read-only store on a real SQLite file: point lookups, refresh, file replacement."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from registry.errors import ReplicaError
from registry.model import ContactRole
from replica import demo, rows, schema
from replica.store import SqliteStore, check_readable, open_store
from tests.conftest import make_contact

DEPOSITS = Path(__file__).resolve().parent.parent / "data" / "deposits"


async def test_lookups(demo_replica: Path) -> None:
    store = await open_store(demo_replica, pool_size=2)
    try:
        record = await store.domain("example.coop")
        assert record is not None
        assert record.registrar.iana_id == 9100 and record.tld.name == "coop"
        roles = [r for r, _ in record.contacts]
        assert roles[0] is ContactRole.REGISTRANT and ContactRole.TECH in roles
        assert {h.name for h in record.hosts} == {"ns1.example.coop", "ns2.example.coop"}
        assert await store.domain("nosuch.coop") is None
        host = await store.host("ns1.example.coop")
        assert host is not None and host.host.v6 == ("2a0f:9400:7e11::53",)
        by_ip = await store.hosts_by_ip("2a0f:9400:7e11:0:0:0:0:53")  # any IPv6 spelling
        assert [h.host.name for h in by_ip] == ["ns1.example.coop"]
        assert (await store.registrar_by_iana(9100)) is not None
        assert [r.registrar.id for r in await store.registrars_by_name("alder registrar ltd")] == [
            "R9100"
        ]
        contact = await store.contact("EXORG-1")
        assert contact is not None and contact.contact.postal_info is not None
        assert set(await store.tlds()) == {"coop", "org", "cx", "gs", "xn--mgbtx2b"}
        assert store.info.generation == 1
    finally:
        await store.close()


async def test_the_store_never_writes(demo_replica: Path) -> None:
    store = await open_store(demo_replica, pool_size=1)
    try:
        with pytest.raises(ReplicaError) as err:
            await store._run(lambda conn: conn.execute("DELETE FROM domain").fetchall())
        assert isinstance(err.value.__cause__, sqlite3.OperationalError)
        assert await store._run(lambda conn: conn.execute("PRAGMA query_only").fetchone()[0]) == 1
    finally:
        await store.close()


async def test_follows_a_replaced_file(tmp_path: Path) -> None:
    path = tmp_path / "replica.sqlite"
    demo.write(path, 20, seed=1)
    store = await open_store(path, pool_size=2)
    try:
        conn = sqlite3.connect(path)
        only_old = {r[0] for r in conn.execute("SELECT name FROM domain")}
        conn.close()
        # A FULL import builds a new file and renames it over the old one.
        new = tmp_path / "new.sqlite"
        demo.write(new, 40, seed=2)
        conn = sqlite3.connect(new)
        conn.execute("UPDATE meta SET value = '7' WHERE key = 'generation'")
        conn.commit()
        fresh = {r[0] for r in conn.execute("SELECT name FROM domain")} - only_old
        conn.close()
        os.replace(new, path)
        assert await store.refresh() is True
        assert store.info.generation == 7
        assert await store.domain(sorted(fresh)[0]) is not None
        assert await store.refresh() is False
    finally:
        await store.close()


async def test_a_changed_registrar_shows_in_the_next_generation(tmp_path: Path) -> None:
    # GIVEN a replica whose domains the store has read (their sponsor is remembered)
    path = tmp_path / "replica.sqlite"
    demo.write(path, 20, seed=1)
    store = await open_store(path, pool_size=1)
    try:
        conn = sqlite3.connect(path)
        name, rid = conn.execute("SELECT name, registrar FROM domain LIMIT 1").fetchone()
        conn.close()
        before = await store.domain(name)
        assert before is not None and before.registrar.name != "Renamed Registrar"
        # WHEN an import renames the sponsor in place and advances the generation
        conn = sqlite3.connect(path)
        with conn:
            conn.execute("UPDATE registrar SET name = 'Renamed Registrar' WHERE id = ?", (rid,))
            schema.bump_generation(conn, store.info.watermark)
        conn.close()
        assert await store.refresh() is True
        # THEN the next lookup shows the registrar as the new generation has it
        after = await store.domain(name)
        assert after is not None and after.registrar.name == "Renamed Registrar"
    finally:
        await store.close()


async def test_missing_or_corrupt_replica(tmp_path: Path) -> None:
    with pytest.raises(ReplicaError, match="no such file"):
        await open_store(tmp_path / "absent.sqlite")
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"\x00" * 4096)
    with pytest.raises(ReplicaError, match="not an rdds replica"):
        await open_store(bad)


async def test_handles_and_registrar_ids_ignore_case(store: SqliteStore) -> None:
    for asked in ("excoop-1", "ExCoop-1", "EXCOOP-1"):
        found = await store.contact(asked)
        assert found is not None and found.contact.handle == "EXCOOP-1"  # the stored case
    for asked in ("cxr1", "CxR1", "r9100"):
        reg = await store.registrar_by_id(asked)
        assert reg is not None and reg.registrar.id == asked.upper()
    assert await store.contact("excoop-2") is None


def _stamp(path: Path, version: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (version,))
    conn.commit()
    conn.close()


async def test_a_replica_of_another_schema_version_is_refused(tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite"
    demo.write(old, 5, seed=1)
    _stamp(old, "1")
    with pytest.raises(ReplicaError) as info:
        await open_store(old)
    message = info.value.message
    assert str(old) in message and "older rdds" in message and "rebuild" in message
    assert "\n" not in message
    _stamp(old, str(schema.SCHEMA_VERSION + 1))
    with pytest.raises(ReplicaError, match="newer rdds"):
        await open_store(old)


async def test_migrate_upgrades_a_version_1_replica_in_place(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite"
    demo.write(path, 5, seed=1)
    # What version 1 wrote: no folded keys.
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP INDEX contact_handle_key")
    conn.execute("ALTER TABLE contact DROP COLUMN handle_key")
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    # The importer's path: migrate inside its write transaction, then write through rows.
    conn.execute("BEGIN IMMEDIATE")
    schema.migrate(conn)
    rows.write_contacts(conn, [make_contact(handle="Late-1", roid="CLATE1-X")])
    conn.execute("COMMIT")
    conn.close()
    store = await open_store(path, pool_size=1)
    try:
        found = await store.contact("excoop-1")
        assert found is not None and found.contact.handle == "EXCOOP-1"
        late = await store.contact("LATE-1")
        assert late is not None and late.contact.handle == "Late-1"
        assert (await store.registrar_by_id("gsr2")) is not None
    finally:
        await store.close()


def test_two_handles_differing_only_in_case_are_refused(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "r.sqlite")
    schema.create(conn)
    rows.write_contacts(conn, [make_contact(handle="abc-1", roid="C1-X")])
    rows.write_contacts(conn, [make_contact(handle="abc-1", roid="C1-X", email="new@x.example")])
    with pytest.raises(sqlite3.IntegrityError, match="handle_key"):
        rows.write_contacts(conn, [make_contact(handle="ABC-1", roid="C2-X")])
    # Replacing by id still works, and nothing was deleted to make room.
    assert conn.execute("SELECT id, email FROM contact").fetchall() == [("abc-1", "new@x.example")]
    conn.close()


def test_demo_cache_of_an_older_schema_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rdds.config import Settings
    from rdds.service import demo_replica

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    settings = replace(Settings(), demo_domains=5)
    path = demo_replica(settings)
    from replica import demo

    assert path.name == f"demo-5-v{schema.SCHEMA_VERSION}-r{demo.REVISION}.sqlite"
    _stamp(path, "1")  # as if an older rdds had left it under this name
    with pytest.raises(ReplicaError):
        check_readable(path)
    assert demo_replica(settings) == path
    check_readable(path)


async def test_importing_the_next_deposit_upgrades_a_version_1_replica(tmp_path: Path) -> None:
    from escrow import importer

    deposits = DEPOSITS
    path = tmp_path / "r.sqlite"
    importer.import_deposits(path, [deposits / "example_2026-11-22_full_S1_R0.xml"])
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP INDEX contact_handle_key")
    conn.execute("ALTER TABLE contact DROP COLUMN handle_key")
    conn.close()
    _stamp(path, "1")
    with pytest.raises(ReplicaError, match="older rdds"):
        check_readable(path)
    importer.import_deposits(path, [deposits / "example_2026-11-23_diff_S1_R0.xml"])
    check_readable(path)
    store = await open_store(path, pool_size=1)
    try:
        found = await store.contact("SH8013")
        assert found is not None and found.contact.handle == "sh8013"
    finally:
        await store.close()
