"""Every search query is served by an index (EXPLAIN QUERY PLAN on a real replica): no table
scan, no temporary sort; and the search keys a migration computes equal the writers'."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from replica import demo, rows, schema
from replica.store import SEARCH_SQL, open_store

#: query -> the index that must serve it (every table the query reads is SEARCHed).
EXPECTED = {
    "domain.name": "sqlite_autoindex_domain_1",
    "domain.name.open": "sqlite_autoindex_domain_1",
    "domain.tld.name": "domain_tld_name",
    "domain.tld.name.open": "domain_tld_name",
    "domain.uname": "domain_uname",
    "domain.uname.open": "domain_uname",
    "domain.tld.uname": "domain_tld_uname",
    "domain.tld.uname.open": "domain_tld_uname",
    "domain.exact": "sqlite_autoindex_domain_1",
    "domain.host": "domain_ns_host",
    "domain.registrant": "domain_registrant",
    "domain.contact": "domain_contact_contact",
    "domain.contact.role": "domain_contact_contact",
    "host.name": "sqlite_autoindex_host_1",
    "host.name.open": "sqlite_autoindex_host_1",
    "host.rname": "host_rname",
    "host.rname.open": "host_rname",
    "host.ip": "host_addr_ip",
    "contact.fn": "contact_fn_key",
    "contact.fn.before": "contact_fn_key",
    "contact.email": "contact_email_key",
    "contact.email.before": "contact_email_key",
    "contact.addr": "contact_addr_key",
    "contact.addr.before": "contact_addr_key",
    "contact.handle": "contact_handle_key",
    "contact.handle.before": "contact_handle_key",
}


def _args(sql: str) -> tuple[object, ...]:
    numbered = [int(n) for n in re.findall(r"\?(\d)", sql)]
    if numbered:
        return ("exam", "exan", 10, "org")[: max(numbered)]
    return tuple(["x"] * (sql.count("?") - 1) + [10]) if "LIMIT" in sql else ("x",)


def plan(conn: sqlite3.Connection, sql: str) -> list[str]:
    return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, _args(sql))]


@pytest.fixture(scope="module")
def replica(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("indexes") / "r.sqlite"
    demo.write(path, 2_000, seed=3)
    return path


def test_every_search_query_is_listed() -> None:
    assert set(EXPECTED) == set(SEARCH_SQL)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_search_query_uses_its_index(replica: Path, name: str) -> None:
    conn = sqlite3.connect(replica)
    try:
        steps = plan(conn, SEARCH_SQL[name])
    finally:
        conn.close()
    assert steps, name
    # The first step reads the named index over a range or a key; every step is a SEARCH.
    assert EXPECTED[name] in steps[0], steps
    assert all(s.startswith("SEARCH ") for s in steps), steps
    assert not any("TEMP B-TREE" in s for s in steps), steps


@pytest.mark.parametrize(
    ("name", "index"),
    [("contact.fn", "contact_fn_key"), ("host.rname", "host_rname")],
)
def test_without_the_index_the_query_would_scan(
    replica: Path, tmp_path: Path, name: str, index: str
) -> None:
    # The test above can fail: drop the index and the plan is a scan (and a sort).
    copy = tmp_path / "copy.sqlite"
    copy.write_bytes(replica.read_bytes())
    conn = sqlite3.connect(copy)
    try:
        conn.execute(f"DROP INDEX {index}")
        steps = plan(conn, SEARCH_SQL[name])
    finally:
        conn.close()
    assert any(s.startswith("SCAN ") or "TEMP B-TREE" in s for s in steps), steps


async def test_migrate_computes_the_search_keys_of_a_version_2_replica(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite"
    demo.write(path, 60, seed=2)
    conn = sqlite3.connect(path, isolation_level=None)
    written = {
        r[0]: r[1:] for r in conn.execute("SELECT id, fn_key, email_key, addr_key FROM contact")
    }
    hosts = dict(conn.execute("SELECT name, rname FROM host"))
    # What version 2 wrote: no search keys, none of their indexes.
    for index in (
        "contact_fn_key",
        "contact_email_key",
        "contact_addr_key",
        "host_rname",
        "domain_tld_uname",
    ):
        conn.execute(f"DROP INDEX {index}")
    for table, column in (
        ("contact", "fn_key"),
        ("contact", "email_key"),
        ("contact", "addr_key"),
        ("host", "rname"),
    ):
        conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    conn.execute("BEGIN IMMEDIATE")
    schema.migrate(conn)
    conn.execute("COMMIT")
    migrated = {
        r[0]: r[1:] for r in conn.execute("SELECT id, fn_key, email_key, addr_key FROM contact")
    }
    assert migrated == written
    assert dict(conn.execute("SELECT name, rname FROM host")) == hosts
    for name in ("contact.fn", "host.rname", "domain.tld.uname"):
        assert EXPECTED[name] in plan(conn, SEARCH_SQL[name])[0]
    conn.close()
    store = await open_store(path, pool_size=1)
    try:
        assert store.info.generation >= 1
    finally:
        await store.close()


def test_writer_keys() -> None:
    from tests.conftest import make_contact

    person = make_contact(handle="K-1")
    fn, email, addr = rows.search_keys(person)
    assert fn == "quinn testperson"
    assert email == "quinn.testperson@mail.example"
    assert addr == "1 sample street, floor 2, sampleton, sa1 2mp"
    assert schema.fn_key(rows.contact_row(person)[5]) == fn
    assert schema.addr_key(rows.contact_row(person)[5]) == addr
