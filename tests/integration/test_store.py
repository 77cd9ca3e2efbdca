"""The read-only store on a real SQLite file: point lookups, refresh, file replacement."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from registry.errors import ReplicaError
from registry.model import ContactRole
from replica import demo
from replica.store import open_store


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
        conn = await store._pool.get()
        with pytest.raises(sqlite3.OperationalError):
            await conn.execute("DELETE FROM domain")
        store._pool.put_nowait(conn)
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


async def test_missing_or_corrupt_replica(tmp_path: Path) -> None:
    with pytest.raises(ReplicaError, match="no such file"):
        await open_store(tmp_path / "absent.sqlite")
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"\x00" * 4096)
    with pytest.raises(ReplicaError, match="not an rdds replica"):
        await open_store(bad)
