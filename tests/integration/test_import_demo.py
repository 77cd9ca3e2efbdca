"""Demo registry -> RDE deposits -> import: the same replica as `replica.demo.write`, and a DIFF
applied under a live read-only store that never sees half of it.

GIVEN the demo registry for a small N and a seed
WHEN it is written as deposits and imported
THEN the replica's rows equal the ones `replica.demo.write` produces for the same N and seed.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from escrow import export as rde_export
from escrow import importer, rde
from replica import demo
from replica.store import SqliteStore

N = 400
SEED = 7
TABLES = (
    "domain",
    "domain_contact",
    "domain_ns",
    "domain_ds",
    "contact",
    "host",
    "host_addr",
    "registrar",
    "tld",
)


@pytest.fixture(scope="module")
def deposits(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return rde_export.write_deposits(tmp_path_factory.mktemp("deposits"), N, SEED)


def table(path: Path, name: str) -> set[tuple]:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return {tuple(r) for r in conn.execute(f"SELECT * FROM {name}")}
    finally:
        conn.close()


def test_file_names_and_types(deposits: list[Path]) -> None:
    names = [p.name for p in deposits]
    assert names[0] == "coop_2026-11-22_full_S1_R0.xml"
    assert sum("_full_" in n for n in names) == len(demo.TLDS)
    assert sum("_diff_" in n for n in names) == len(demo.TLDS)


@pytest.mark.parametrize("worker", [False, True], ids=["in-process", "worker"])
def test_full_deposits_reproduce_demo_write(
    deposits: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, worker: bool
) -> None:
    if worker:  # large deposits are parsed in a worker process: same rows
        monkeypatch.setattr(importer, "PIPELINE_MIN_BYTES", 0)
    imported = tmp_path / "imported.db"
    lines: list[str] = []
    importer.import_deposits(
        imported, [p for p in deposits if "_full_" in p.name], report=lines.append
    )
    expected = tmp_path / "demo.db"
    demo.write(expected, N, SEED)
    for name in TABLES:
        assert table(imported, name) == table(expected, name), name
    # The demo deposits are complete: no dangling references, header counts all agree.
    assert not [x for x in lines if "does not exist" in x or "header count" in x]


def test_worker_failure_is_reported_and_changes_nothing(
    deposits: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "PIPELINE_MIN_BYTES", 0)
    replica = tmp_path / "r.db"
    importer.import_deposits(replica, deposits[:1])
    before = replica.read_bytes()
    bad = tmp_path / "org_bad.xml"
    text = deposits[1].read_text(encoding="utf-8")
    bad.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(importer.ImportFailed) as info:
        importer.import_deposits(replica, [bad])
    assert str(info.value).startswith("org_bad.xml:")
    assert "malformed XML" in info.value.reason
    assert replica.read_bytes() == before


def test_diffs_apply_on_top(deposits: list[Path], tmp_path: Path) -> None:
    replica = tmp_path / "r.db"
    result = importer.import_deposits(replica, deposits)
    diffs = [a for a in result.applied if a.type == "DIFF"]
    assert len(diffs) == len(demo.TLDS)
    assert all(a.objects.get("deleted", 0) > 0 for a in diffs if a.tld in ("org", "coop"))
    assert {r[0] for r in table(replica, "domain") if r[0].startswith("new-in-diff.")} == {
        f"new-in-diff.{t.name}" for t in demo.TLDS
    }


def _snapshot(path: Path) -> tuple[int, int, bool]:
    """One read transaction: (generation, domains of .org, whether the new .org domain exists)."""
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, isolation_level=None)
    try:
        conn.execute("BEGIN")
        generation = int(
            conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0]
        )
        count = conn.execute("SELECT count(*) FROM domain WHERE tld = 'org'").fetchone()[0]
        new = (
            conn.execute("SELECT 1 FROM domain WHERE name = 'new-in-diff.org'").fetchone()
            is not None
        )
        conn.execute("COMMIT")
        return generation, count, new
    finally:
        conn.close()


async def test_diff_under_a_live_store(
    deposits: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN a replica built from the FULLs, open in a read-only SqliteStore
    WHEN the .org DIFF has written every row and bumped the generation but not committed
    (the importer is held there) and readers read
    THEN they see exactly the old state; after the commit, exactly the new one, and
    refresh() sees the new generation.

    Mutation that fails this: escrow/importer.py _Applier.delete committing each delete
    (`conn.execute("COMMIT"); conn.execute("BEGIN IMMEDIATE")` after the DELETE): the held
    reader then sees the domain gone under the old generation."""
    replica = tmp_path / "live.db"
    importer.import_deposits(replica, [p for p in deposits if "_full_" in p.name])
    org_diff = next(p for p in deposits if p.name.startswith("org_") and "_diff_" in p.name)
    with org_diff.open("rb") as fh:
        deleted = [d.key for d in rde.parse(fh) if isinstance(d, rde.Delete) and d.kind == "domain"]
    assert deleted
    before = _snapshot(replica)

    # Hold the importer inside its transaction, after its last write and before COMMIT.
    written, release = threading.Event(), threading.Event()
    finish = importer._Applier.finish

    def held_finish(self: Any, digest: str, line: int) -> Any:
        applied = finish(self, digest, line)
        written.set()
        if not release.wait(60):
            raise TimeoutError("the test never released the importer")
        return applied

    monkeypatch.setattr(importer._Applier, "finish", held_finish)

    store = SqliteStore(replica, pool_size=2)
    await store.open()
    try:
        generation = store.info.generation
        old = await store.domain(deleted[0])
        assert old is not None and old.domain.name == deleted[0]
        job = asyncio.create_task(asyncio.to_thread(importer.import_deposits, replica, [org_diff]))
        try:
            assert await asyncio.to_thread(written.wait, 60), "the importer never got there"
            # Overlapping reads, by construction: the deposit is applied but not committed.
            during = [await asyncio.to_thread(_snapshot, replica) for _ in range(3)]
            records = [await store.domain(deleted[0]) for _ in range(3)]
            assert await store.refresh() is False
        finally:
            release.set()
            await job
        after = _snapshot(replica)
        assert during == [before] * 3, "a reader saw part of an uncommitted deposit"
        assert records == [old] * 3  # the whole old record, contacts and hosts included
        assert after[0] == before[0] + 1 and after[2] and not before[2]
        assert after[1] != before[1]

        assert store.info.generation == generation  # until refresh
        assert await store.refresh() is True
        assert store.info.generation == after[0]
        assert await store.domain(deleted[0]) is None
        assert await store.domain("new-in-diff.org") is not None
    finally:
        await store.close()
