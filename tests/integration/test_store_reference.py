"""The one-hop store returns exactly what the one-query-per-round-trip store returned, for
every object of the demo replica (showcase objects and random names) and for misses."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from replica.store import SqliteStore, open_store
from tests.store_reference import ReferenceStore


@pytest.fixture
async def both(demo_replica: Path) -> AsyncIterator[tuple[SqliteStore, ReferenceStore]]:
    new = await open_store(demo_replica, pool_size=2)
    old = ReferenceStore(demo_replica, pool_size=1)
    await old.open()
    try:
        yield new, old
    finally:
        await new.close()
        await old.close()


def _column(path: Path, sql: str) -> list[str]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return [str(row[0]) for row in conn.execute(sql)]
    finally:
        conn.close()


async def test_every_domain_host_contact_and_registrar(
    both: tuple[SqliteStore, ReferenceStore], demo_replica: Path
) -> None:
    new, old = both
    assert new.info == old.info and await new.tlds() == await old.tlds()
    domains = _column(demo_replica, "SELECT name FROM domain ORDER BY name")
    assert "example.coop" in domains and len(domains) >= 300  # showcase plus random names
    for name in [*domains, "nosuch.coop"]:
        assert await new.domain(name) == await old.domain(name), name
    for name in [*_column(demo_replica, "SELECT name FROM host"), "ns9.nosuch.coop"]:
        assert await new.host(name) == await old.host(name), name
    for ip in [*_column(demo_replica, "SELECT DISTINCT ip FROM host_addr"), "192.0.2.254"]:
        assert await new.hosts_by_ip(ip) == await old.hosts_by_ip(ip), ip
    handles = _column(demo_replica, "SELECT id FROM contact")
    for handle in [*handles, *(h.lower() for h in handles[:50]), "NOSUCH-1"]:
        assert await new.contact(handle) == await old.contact(handle), handle
        assert await new.contact(handle, 1) == await old.contact(handle, 1), handle
    for rid in _column(demo_replica, "SELECT id FROM registrar"):
        assert await new.registrar_by_id(rid) == await old.registrar_by_id(rid)
        assert await new.registrar_by_id(rid.lower()) == await old.registrar_by_id(rid.lower())
    for iana in _column(demo_replica, "SELECT iana_id FROM registrar WHERE iana_id IS NOT NULL"):
        assert await new.registrar_by_iana(int(iana)) == await old.registrar_by_iana(int(iana))
    for rname in [*_column(demo_replica, "SELECT name FROM registrar"), "No Such Registrar"]:
        assert await new.registrars_by_name(rname) == await old.registrars_by_name(rname)
