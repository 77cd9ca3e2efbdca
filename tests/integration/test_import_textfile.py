"""`rdds import --metrics-textfile`: the run's outcome for node_exporter's textfile collector."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from rdds.cli import main

DEPOSITS = Path(__file__).resolve().parent.parent / "data" / "deposits"
FULL = DEPOSITS / "example_2026-11-22_full_S1_R0.xml"
DIFF = DEPOSITS / "example_2026-11-23_diff_S1_R0.xml"
BOMB = DEPOSITS / "bomb.xml"


def samples(path: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(path.read_text())
        for s in family.samples
    }


def test_runs_and_outcomes_accumulate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    replica, prom = tmp_path / "replica.sqlite", tmp_path / "rdds_import.prom"
    base = ["import", "--quiet", "--replica", str(replica), "--metrics-textfile", str(prom)]
    # GIVEN a successful FULL import
    assert main([*base, str(FULL)]) == 0
    s = samples(prom)
    assert s["rdds_import_runs_total", (("outcome", "success"),)] == 1
    assert s["rdds_import_runs_total", (("outcome", "failure"),)] == 0
    assert s["rdds_import_last_success", ()] == 1
    assert s["rdds_import_replica_generation", ()] == 1
    assert s["rdds_import_replica_watermark_timestamp_seconds", ()] == 1795305600  # 2026-11-22
    success_at = s["rdds_import_last_success_timestamp_seconds", ()]
    # WHEN a deposit is refused, THEN a failure is counted and the last success is kept
    assert main([*base, str(BOMB)]) == 1
    s = samples(prom)
    assert s["rdds_import_runs_total", (("outcome", "success"),)] == 1
    assert s["rdds_import_runs_total", (("outcome", "failure"),)] == 1
    assert s["rdds_import_last_success", ()] == 0
    assert s["rdds_import_last_success_timestamp_seconds", ()] == success_at
    assert s["rdds_import_replica_generation", ()] == 1  # the replica is unchanged
    # WHEN the next deposit applies, THEN the totals go on and the generation follows
    assert main([*base, str(DIFF)]) == 0
    s = samples(prom)
    assert s["rdds_import_runs_total", (("outcome", "success"),)] == 2
    assert s["rdds_import_replica_generation", ()] == 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("rdds_import.prom.")]


def test_unwritable_textfile_is_one_line_and_keeps_the_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    replica = tmp_path / "replica.sqlite"
    prom = tmp_path / "missing-dir" / "rdds_import.prom"
    args = ["import", "--quiet", "--replica", str(replica), "--metrics-textfile", str(prom)]
    assert main([*args, str(FULL)]) == 0  # the import itself succeeded
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"rdds import: {prom}: cannot write" in err
    assert replica.exists()
