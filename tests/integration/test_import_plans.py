"""The escrow importer's reference checks cost what the deposit holds: on a replica with
statistics (`ANALYZE`, as every import-built replica has), each check's query plan walks the
deposit's own keys (`pend`, `gone`) and reaches the replica only through an index, never by
scanning a replica table (which would make every DIFF cost a read of the replica)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from escrow import checks, export
from escrow.importer import import_deposits

#: The deposit's temporary tables, the only ones a plan may scan.
OWN = {"p", "g"}


@pytest.fixture(scope="module")
def analyzed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("plans")
    replica = tmp / "replica.sqlite"
    import_deposits(replica, export.write_deposits(tmp / "rde", 2_000, 1))
    return replica


def _plans() -> list[str]:
    return [sql for _, sql in checks._FATAL] + list(checks._SOFT)


@pytest.mark.parametrize("sql", _plans(), ids=range(len(_plans())))
def test_each_reference_check_scans_only_the_deposits_keys(analyzed: Path, sql: str) -> None:
    conn = sqlite3.connect(analyzed)
    try:
        assert conn.execute("SELECT count(*) FROM sqlite_stat1").fetchone()[0] > 0
        conn.execute("CREATE TEMP TABLE pend (kind TEXT NOT NULL, key TEXT NOT NULL, line INT)")
        conn.execute("CREATE TEMP TABLE gone (kind TEXT NOT NULL, key TEXT NOT NULL)")
        steps = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql} LIMIT 11")]
    finally:
        conn.close()
    scanned = {s.split()[1] for s in steps if s.startswith("SCAN ")}
    assert scanned <= OWN, steps
    assert not any("AUTOMATIC" in s for s in steps), steps  # an index built per query
