"""deploy/: the systemd units pass `systemd-analyze verify`, the example configuration is
valid, and the import script applies waiting deposits in order."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from rdds import config

ROOT = Path(__file__).resolve().parent.parent.parent
DEPLOY = ROOT / "deploy"
DEPOSITS = ROOT / "tests" / "data" / "deposits"
UNITS = ("rdds.service", "rdds-import.service", "rdds-import.path")


def _analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("systemd-analyze is missing (.ci/run installs Debian's systemd package)")
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    return found


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    # The units name the installed paths; point them at this checkout's (verify checks that
    # every ExecStart command exists and is executable).
    rdds = Path(sys.executable).with_name("rdds")
    assert rdds.exists()
    for name in UNITS:
        text = (DEPLOY / "systemd" / name).read_text()
        text = text.replace("/opt/rdds/venv/bin/rdds", str(rdds))
        text = text.replace("/opt/rdds/deploy/import-incoming", str(DEPLOY / "import-incoming"))
        (tmp_path / name).write_text(text)
    result = subprocess.run(
        [_analyze(), "verify", *UNITS], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    # Any warning (an unknown key, a bad value) is a failure too, not only the exit code.
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), (
        result.stdout + result.stderr
    )


def test_service_unit_hardening() -> None:
    unit = (DEPLOY / "systemd" / "rdds.service").read_text()
    lines = {line.strip() for line in unit.splitlines()}
    # A dedicated user, port 43 and no other privilege, a read-only system and replica.
    assert {"User=rdds", "ProtectSystem=strict", "NoNewPrivileges=yes"} <= lines
    assert "AmbientCapabilities=CAP_NET_BIND_SERVICE" in lines
    assert "CapabilityBoundingSet=CAP_NET_BIND_SERVICE" in lines
    assert "ReadOnlyPaths=/var/lib/rdds/replica" in lines
    assert "Restart=on-failure" in lines and "RestartPreventExitStatus=2" in lines
    assert "ExecReload=/bin/kill -HUP $MAINPID" in lines


def test_example_configuration_is_valid() -> None:
    settings = config.load_file(DEPLOY / "rdds.toml")
    assert settings.trusted_proxies == ("127.0.0.1/32", "::1/128")
    assert settings.rdap.health_path == "/_health" and settings.log.format == "json"


def test_import_script_applies_deposits_in_order(tmp_path: Path) -> None:
    # GIVEN a spool with a DIFF, its FULL, and a deposit the importer refuses
    spool, replica = tmp_path / "spool", tmp_path / "replica" / "replica.sqlite"
    incoming = spool / "incoming"
    incoming.mkdir(parents=True)
    replica.parent.mkdir()
    for name in ("example_2026-11-23_diff_S1_R0.xml", "example_2026-11-22_full_S1_R0.xml"):
        shutil.copy(DEPOSITS / name, incoming / name)
    shutil.copy(DEPOSITS / "bomb.xml", incoming / "example_2026-11-24_diff_S1_R0.xml")
    prom = tmp_path / "rdds_import.prom"
    config = tmp_path / "rdds.toml"
    config.write_text('[rdap]\nbase_url = "https://rdap.registry.example/"\n')
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RDDS": str(Path(sys.executable).with_name("rdds")),
        "PYTHON": sys.executable,
        "RDDS_IMPORT_TEXTFILE": str(prom),
        "RDDS_CONFIG": str(config),
    }
    # WHEN the import service's script runs
    result = subprocess.run(
        [str(DEPLOY / "import-incoming"), str(spool), str(replica)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # THEN FULL then DIFF applied (generation 2), the bad one set aside, exit 1
    assert result.returncode == 1, result.stderr
    assert sorted(p.name for p in (spool / "done").iterdir()) == [
        "example_2026-11-22_full_S1_R0.xml",
        "example_2026-11-23_diff_S1_R0.xml",
    ]
    assert [p.name for p in (spool / "failed").iterdir()] == ["example_2026-11-24_diff_S1_R0.xml"]
    assert not list(incoming.iterdir())
    # AND SQLite's side files stay beside the replica for the read-only server (checked
    # first: a read-write connection closed last would remove them)
    assert replica.with_name("replica.sqlite-shm").exists()
    assert replica.with_name("replica.sqlite-wal").exists()
    conn = sqlite3.connect(f"{replica.as_uri()}?mode=ro", uri=True)
    try:
        # AND every domain's answer stored under the server's configuration (a new
        # generation: 3)
        assert conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone() == ("3",)
        assert conn.execute(
            "SELECT count(*) FROM domain WHERE name NOT IN (SELECT name FROM answer)"
        ).fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM answer").fetchone()[0] > 0
    finally:
        conn.close()
    assert "rdds_import_runs_total" in prom.read_text()
