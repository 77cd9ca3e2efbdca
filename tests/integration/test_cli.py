"""The rdds command: bad input gives one line and exit 2; serve starts and stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rdds.cli import main

ROOT = Path(__file__).resolve().parent.parent.parent


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--replica", "/nonexistent/replica.sqlite"], "no such file"),
        (["serve"], "give --replica PATH or --demo"),
        (["demo", "--out", "/tmp/x.sqlite", "--domains", "3"], "at least 8"),
    ],
)
def test_operator_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run_main(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and message in err and err.startswith("rdds: ")
    assert "Traceback" not in err


def test_not_a_replica(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite" * 100)
    code, _, err = run_main(capsys, "serve", "--replica", str(junk))
    assert code == 2 and "not an rdds replica" in err and str(junk) in err


def test_unreadable_replica(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    directory = tmp_path / "dir.sqlite"
    directory.mkdir()
    code, _, err = run_main(capsys, "serve", "--replica", str(directory))
    assert code == 2 and "not a regular file" in err


def test_invalid_config_names_the_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, demo_replica: Path
) -> None:
    cfg = tmp_path / "rdds.toml"
    cfg.write_text('[rdap]\nport = "eighty"\n')
    code, _, err = run_main(capsys, "serve", "--replica", str(demo_replica), "--config", str(cfg))
    assert code == 2 and f"{cfg}: rdap.port: expected a non-negative integer" in err
    cfg.write_text("[tld.org]\nsurprise = 1\n")
    code, _, err = run_main(capsys, "serve", "--replica", str(demo_replica), "--config", str(cfg))
    assert code == 2 and "tld.org.surprise: unknown key" in err


def test_port_in_use(capsys: pytest.CaptureFixture[str], demo_replica: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        code, _, err = run_main(
            capsys,
            "serve",
            "--replica",
            str(demo_replica),
            "--rdap-port",
            str(port),
            "--whois-port",
            "0",
        )
    assert code == 2 and "cannot listen" in err


def test_demo_command_writes_a_replica(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "d.sqlite"
    code, stdout, _ = run_main(capsys, "demo", "--out", str(out), "--domains", "40", "--seed", "3")
    assert code == 0 and out.exists() and "40 domains" in stdout
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


def test_serve_demo_builds_at_cache_path_and_stops_on_sigterm(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path)}
    env["RDDS_METRICS_PORT"] = "0"  # never the shared default port in tests
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rdds",
            "serve",
            "--demo",
            "--demo-domains",
            "30",
            "--rdap-port",
            str(port),
            "--whois-port",
            "0",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert proc.poll() is None
                time.sleep(0.1)
        assert (tmp_path / "rdds" / "demo-30.sqlite").exists()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert f"RDAP on http://127.0.0.1:{port}/" in out and "stopping" in out
    assert "Traceback" not in out
