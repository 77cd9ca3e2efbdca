"""Shared fixtures: a real demo replica on disk, and model factories."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from registry.model import (
    Contact,
    ContactRole,
    CoopCategory,
    Domain,
    DomainRecord,
    PersonKind,
    PostalInfo,
    Registrar,
    ReplicaInfo,
    Tld,
    TldKind,
)
from replica import demo, rows, schema
from replica.store import SqliteStore, open_store
from tests import pgserver
from tests.pgserver import PgServer

#: Every `rdds serve` a test starts (in process or as a child, which inherits the
#: environment) gets a free metrics port, never the shared default 9108.
os.environ.setdefault("RDDS_METRICS_PORT", "0")

DEMO_DOMAINS = 300
WATERMARK = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def demo_replica(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real SQLite demo replica (showcase objects plus random names), built once."""
    path = tmp_path_factory.mktemp("replica") / "demo.sqlite"
    demo.write(path, DEMO_DOMAINS, seed=1)
    return path


@pytest.fixture
async def store(demo_replica: Path) -> AsyncIterator[SqliteStore]:
    """A read-only store on the demo replica."""
    s = await open_store(demo_replica, pool_size=2)
    try:
        yield s
    finally:
        await s.close()


# --- factories: defaults plus keyword overrides -----------------------------------------


def make_contact(**kw: Any) -> Contact:
    """A natural person with every field filled in (synthetic values)."""
    base: dict[str, Any] = {
        "handle": "TEST-1",
        "roid": "CTEST1-TEST",
        "postal": (
            PostalInfo(
                "int",
                "Quinn Testperson",
                org="Testing Widgets Ltd",
                street=("1 Sample Street", "Floor 2"),
                city="Sampleton",
                sp="Samplia",
                pc="SA1 2MP",
                cc="GB",
            ),
        ),
        "email": "quinn.testperson@mail.example",
        "voice": "+44.5550100111",
        "voice_ext": "77",
        "fax": "+44.5550100222",
        "fax_ext": "88",
        "kind": PersonKind.NATURAL,
    }
    base.update(kw)
    return Contact(**base)


def make_registrar(**kw: Any) -> Registrar:
    base: dict[str, Any] = {
        "id": "R9999",
        "name": "Testing Registrar Ltd",
        "iana_id": 9999,
        "email": "info@testing-registrar.example",
        "url": "https://www.testing-registrar.example",
        "whois_server": "whois.testing-registrar.example",
        "abuse_email": "abuse@testing-registrar.example",
        "abuse_phone": "+1.5550100000",
        "rdap_base_url": "https://rdap.testing-registrar.example/",
    }
    base.update(kw)
    return Registrar(**base)


def make_record(
    registrant: Contact | None = None,
    *,
    tld: Tld | None = None,
    statuses: tuple[str, ...] = ("ok",),
    tech: Contact | None = None,
    **kw: Any,
) -> DomainRecord:
    """A domain record with a registrant (and optionally a tech contact)."""
    tld = tld or Tld("org", TldKind.GTLD, "org", "ORG")
    registrant = registrant or make_contact()
    contacts = [(ContactRole.REGISTRANT, registrant)]
    if tech is not None:
        contacts.append((ContactRole.TECH, tech))
    domain = Domain(
        name=kw.pop("name", f"sample.{tld.name}"),
        roid=kw.pop("roid", "D1-ORG"),
        tld=tld.name,
        statuses=statuses,
        registrar="R9999",
        created=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        expires=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
        registrant=registrant.handle,
        **kw,
    )
    return DomainRecord(
        domain=domain,
        tld=tld,
        registrar=make_registrar(),
        contacts=tuple(contacts),
        info=ReplicaInfo(1, WATERMARK),
    )


COOP = Tld("coop", TldKind.SPONSORED, "coop", "COOP")


def make_coop_record(
    registrant: Contact | None = None,
    *,
    category: CoopCategory | None = CoopCategory.COOP,
    certified: bool | None = True,
    **kw: Any,
) -> DomainRecord:
    """A .coop domain of a cooperative (a legal person), certified; verified unless the
    registrant given says otherwise."""
    registrant = registrant or coop_registrant("verified")
    return make_record(registrant, tld=COOP, coop_category=category, coop_certified=certified, **kw)


#: .coop registrants in each verification state: verified by the registry, checked and not
#: verified, and never verified at all (the deposit carried no verification: the model's
#: default). The demo has the first two (example.coop, unverified.coop), not the third.
COOP_REGISTRANTS: dict[str, dict[str, Any]] = {
    "verified": {"verified": True},
    "unverified": {"verified": False},
    "never-verified": {},
}


def coop_registrant(state: str) -> Contact:
    """The registrant of `state.coop` (see COOP_REGISTRANTS)."""
    handle = state.upper().replace("-", "") + "-1"
    return make_contact(
        handle=handle,
        roid=f"C{handle.replace('-', '')}-COOP",
        kind=PersonKind.LEGAL,
        postal=(
            PostalInfo(
                "int",
                "Robin Sample",
                org=f"{state.title()} Growers Cooperative",
                street=("2 Orchard Row",),
                city="Sampleton",
                cc="GB",
            ),
        ),
        email=f"office@{state}-growers.example",
        **COOP_REGISTRANTS[state],
    )


def coop_records() -> list[DomainRecord]:
    """One .coop domain per verification state, named after it (`never-verified.coop`)."""
    return [
        make_coop_record(coop_registrant(state), name=f"{state}.coop", roid=f"D{n}-COOP")
        for n, state in enumerate(COOP_REGISTRANTS, start=1)
    ]


def write_replica(
    path: Path, records: Iterable[DomainRecord], contacts: Iterable[Contact] = ()
) -> Path:
    """A real SQLite replica holding exactly `records` (their TLDs, registrars, contacts,
    hosts) and any further `contacts`, written through the same row codecs as every writer."""
    records = list(records)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        schema.create(conn)
        conn.execute("BEGIN")
        conn.executemany(rows.UPSERT_TLD, [rows.tld_row(t) for t in {r.tld for r in records}])
        rows.write_registrars(conn, {r.registrar.id: r.registrar for r in records}.values())
        every = {c.handle: c for r in records for _, c in r.contacts}
        every.update({c.handle: c for c in contacts})
        rows.write_contacts(conn, every.values())
        rows.write_hosts(conn, [h for r in records for h in r.hosts])
        # The domain's references follow the record's resolved contacts.
        domains = [
            replace(
                r.domain,
                registrant=r.registrant.handle if r.registrant else None,
                contacts=tuple(
                    (role, c.handle) for role, c in r.contacts if role is not ContactRole.REGISTRANT
                ),
            )
            for r in records
        ]
        rows.write_domains(conn, [(d, None) for d in domains])
        schema.bump_generation(conn, WATERMARK)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return path


# --- a real PostgreSQL server --------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL cluster of its own on a free loopback port for the whole session
    (Debian's `postgresql` package). Skipped without the binaries, except in CI. Its data
    directory is outside pytest's private (0700) temporary tree, which the unprivileged
    server user cannot enter."""
    if pgserver.bin_dir() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) are missing in CI")
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    base = Path(tempfile.mkdtemp(prefix="rdds-test-pg-"))
    try:
        server = pgserver.start_server(base)
        try:
            yield server
        finally:
            server.stop("immediate")
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_standby(pg_server: PgServer) -> Iterator[PgServer]:
    """A hot standby streaming from `pg_server` (pg_basebackup -R), for the whole session, on
    a port of its own. Read-only: write on `pg_server`, then `pgserver.wait_replayed`."""
    base = Path(tempfile.mkdtemp(prefix="rdds-test-pg-standby-"))
    try:
        if pg_server.user is not None:
            os.chmod(base, 0o755)
        standby = pgserver.start_standby(pg_server, base)
        try:
            yield standby
        finally:
            standby.stop("immediate")
    finally:
        shutil.rmtree(base, ignore_errors=True)
