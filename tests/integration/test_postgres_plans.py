"""Every PostgreSQL lookup is index-only work: with sequential scans priced out, none is left
in the plan of the domain, host, contact and registrar queries (a scan there makes each
lookup cost a read of a whole table: on a million domains, the contact scan of the domain
query took a third of a second of server CPU per answer)."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from escrow import export, pg_import
from replica import postgres
from tests.pgserver import PgServer, new_database

LOOKUPS = {
    "domain": (postgres.DOMAIN_SQL, ["nosuch.coop"]),
    "host": (postgres.HOST_SQL, ["ns1.nosuch.coop"]),
    "hosts_by_ip": (postgres.HOSTS_BY_IP_SQL, ["192.0.2.1", 10]),
    "contact": (postgres.CONTACT_SQL, ["nosuch", 10]),
    "registrar_by_iana": (postgres.REGISTRAR_BY_IANA_SQL, [1]),
    "registrar_by_id": (postgres.REGISTRAR_BY_ID_SQL, ["nosuch"]),
    "registrars_by_name": (postgres.REGISTRARS_BY_NAME_SQL, ["nosuch"]),
}


@pytest.fixture(scope="module")
def deposits(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return export.write_deposits(tmp_path_factory.mktemp("rde"), 300, 1)


@pytest.mark.parametrize("name", sorted(LOOKUPS))
async def test_no_lookup_scans_a_table(
    pg_server: PgServer, deposits: list[Path], name: str
) -> None:
    url = await new_database(pg_server)
    await pg_import.import_into(url, deposits)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SET enable_seqscan = off")
        sql, args = LOOKUPS[name]
        plan = "\n".join(r[0] for r in await conn.fetch("EXPLAIN " + sql, *args))
    finally:
        await conn.close()
    assert "Seq Scan" not in plan, plan
