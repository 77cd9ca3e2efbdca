"""What docs/escrow.md promises the importer refuses or ignores, through `rdds import`.

GIVEN a replica built from the demo's FULL deposits (`rdds demo --format rde`)
WHEN a deposit breaks a documented rule
THEN `rdds import` exits 1 with one line `rdds import: FILE:LINE: reason`, and the replica is
byte for byte as it was; deletes inside a FULL are ignored and reported; and a replica that
no deposit built (a demo file) is replaced whole by the first FULL.

Mutations that fail these (tried): escrow/rde.py accepting any menu version
(`version_ok = True`); escrow/importer.py applying deletes in a FULL (the FULL guard in
`_Applier.delete` removed); the first FULL into a demo replica not emptying its tables
(`DELETE FROM {table}` -> `pass`).
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from rdds.cli import main
from replica import demo

N = 30


@pytest.fixture(scope="module")
def deposits(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("rde")
    assert main(["demo", "--format", "rde", "--out", str(out), "--domains", str(N)]) == 0
    return sorted(out.glob("*_full_*.xml")) + sorted(out.glob("*_diff_*.xml"))


@pytest.fixture(scope="module")
def built(deposits: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    replica = tmp_path_factory.mktemp("built") / "replica.sqlite"
    fulls = [str(p) for p in deposits if "_full_" in p.name]
    assert main(["import", "--quiet", "--replica", str(replica), *fulls]) == 0
    return replica


def run(capsys: pytest.CaptureFixture[str], replica: Path, *paths: Path) -> tuple[int, str]:
    code = main(["import", "--replica", str(replica), *map(str, paths)])
    return code, capsys.readouterr().err


def coop_full(deposits: list[Path]) -> str:
    path = next(p for p in deposits if p.name.startswith("coop_") and "_full_" in p.name)
    return path.read_text(encoding="utf-8")


def later(text: str) -> str:
    """The same FULL as a new deposit one day later (a fresh id, a later watermark)."""
    return text.replace('id="2026112200001"', 'id="2026112400001"', 1).replace(
        "<rde:watermark>2026-11-22T00:00:00Z</rde:watermark>",
        "<rde:watermark>2026-11-24T00:00:00Z</rde:watermark>",
        1,
    )


def rows(replica: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(f"{replica.as_uri()}?mode=ro", uri=True)
    try:
        return [tuple(r) for r in conn.execute(sql)]
    finally:
        conn.close()


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


@pytest.mark.parametrize(
    ("case", "old", "new", "reason"),
    [
        (
            "menu version 2.0",
            "<rde:version>1.0</rde:version>",
            "<rde:version>2.0</rde:version>",
            "version",
        ),
        (
            "invalid date",
            "<rdeDomain:crDate>2019-03-14T09:26:53Z</rdeDomain:crDate>",
            "<rdeDomain:crDate>2019-13-45T09:26:53Z</rdeDomain:crDate>",
            "invalid date-time",
        ),
        (
            "invalid address",
            '<rdeHost:addr ip="v4">45.142.220.11</rdeHost:addr>',
            '<rdeHost:addr ip="v4">45.142.220.999</rdeHost:addr>',
            "address",
        ),
        (
            "IPv6 address marked v4",
            '<rdeHost:addr ip="v6">2a0f:9400:7e11::53</rdeHost:addr>',
            '<rdeHost:addr ip="v4">2a0f:9400:7e11::53</rdeHost:addr>',
            "not IPv4",
        ),
    ],
)
def test_refused_deposit_leaves_the_replica_as_it_was(
    capsys: pytest.CaptureFixture[str],
    deposits: list[Path],
    built: Path,
    tmp_path: Path,
    case: str,
    old: str,
    new: str,
    reason: str,
) -> None:
    replica = tmp_path / "replica.sqlite"
    shutil.copyfile(built, replica)
    before = replica.read_bytes()
    text = later(coop_full(deposits))
    assert old in text, case
    bad = tmp_path / "coop_2026-11-24_full_S1_R0.xml"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")

    code, err = run(capsys, replica, bad)

    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    prefix = f"rdds import: {bad.name}:"
    assert err.startswith(prefix) and reason in err, err
    number = int(err[len(prefix) :].split(":", 1)[0])
    # The line is where the offending element's start tag ends: at or just before the value.
    assert 0 < number <= line_of(text, old) + 1
    assert replica.read_bytes() == before
    # Messages name keys and elements, never the values they refuse.
    assert "45.142.220.999" not in err and "2019-13-45" not in err


def test_refused_first_deposit_creates_no_replica(
    capsys: pytest.CaptureFixture[str], deposits: list[Path], tmp_path: Path
) -> None:
    bad = tmp_path / "coop_full.xml"
    bad.write_text(
        coop_full(deposits).replace(
            "<rde:version>1.0</rde:version>", "<rde:version>1.1</rde:version>"
        ),
        encoding="utf-8",
    )
    replica = tmp_path / "new.sqlite"
    code, err = run(capsys, replica, bad)
    assert code == 1 and err.startswith("rdds import: coop_full.xml:")
    assert not replica.exists() and not list(tmp_path.glob(".*.tmp"))


def test_deletes_inside_a_full_are_ignored_and_reported(
    capsys: pytest.CaptureFixture[str], deposits: list[Path], built: Path, tmp_path: Path
) -> None:
    """A FULL's deletes would otherwise remove another TLD's domain (example.org is in the org
    FULL, not in this coop FULL): it must still be there."""
    replica = tmp_path / "replica.sqlite"
    shutil.copyfile(built, replica)
    deletes = (
        "<rde:deletes>"
        "<rdeDomain:delete><rdeDomain:name>example.org</rdeDomain:name></rdeDomain:delete>"
        "<rdeContact:delete><rdeContact:id>EXORG-1</rdeContact:id></rdeContact:delete>"
        "</rde:deletes>\n<rde:contents>"
    )
    text = later(coop_full(deposits)).replace("<rde:contents>", deletes, 1)
    full = tmp_path / "coop_2026-11-24_full_S1_R0.xml"
    full.write_text(text, encoding="utf-8")

    code, err = run(capsys, replica, full)

    assert code == 0, err
    warnings = [
        line for line in err.splitlines() if "deletes in a FULL deposit are ignored" in line
    ]
    assert len(warnings) == 2 and all(w.startswith(f"{full.name}:") for w in warnings)
    assert "applied FULL 2026112400001" in err
    assert rows(replica, "SELECT name FROM domain WHERE name = 'example.org'") == [("example.org",)]
    assert rows(replica, "SELECT id FROM contact WHERE id = 'EXORG-1'") == [("EXORG-1",)]


def test_a_demo_replica_is_replaced_whole_by_the_first_full(
    capsys: pytest.CaptureFixture[str], deposits: list[Path], tmp_path: Path
) -> None:
    """GIVEN a demo replica (no deposit built it: nothing says which rows belong to which TLD)
    WHEN the first FULL, of .coop, is imported THEN nothing of the other TLDs remains."""
    replica = tmp_path / "demo.sqlite"
    demo.write(replica, N, seed=1)
    assert {r[0] for r in rows(replica, "SELECT DISTINCT tld FROM domain")} == {
        t.name for t in demo.TLDS
    }
    full = next(p for p in deposits if p.name.startswith("coop_") and "_full_" in p.name)

    code, err = run(capsys, replica, full)

    assert code == 0, err
    assert rows(replica, "SELECT DISTINCT tld FROM domain") == [("coop",)]
    assert rows(replica, "SELECT name FROM domain WHERE name = 'example.org'") == []
    assert rows(replica, "SELECT id FROM contact WHERE id = 'EXORG-1'") == []
    assert rows(replica, "SELECT name FROM domain WHERE name = 'example.coop'") == [
        ("example.coop",)
    ]
