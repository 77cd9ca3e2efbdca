"""The rdds command: bad input gives one line and exit 2; serve starts and stops cleanly."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from rdds.cli import main
from replica import demo, schema

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


@pytest.mark.parametrize(
    ("argv", "config", "env", "message"),
    [
        (["--rdap-port", "99999"], None, {}, "--rdap-port: 99999 is not a port number (0-65535)"),
        (["--rdap-port", "-1"], None, {}, "--rdap-port: -1 is not a port number"),
        (["--rdap-port", "http"], None, {}, "--rdap-port: 'http' is not a port number"),
        (["--whois-port", "65536"], None, {}, "--whois-port: 65536 is not a port number"),
        ([], "[rdap]\nport = 99999\n", {}, "rdds.toml: rdap.port: 99999 is not a port number"),
        ([], "[whois]\nport = 70000\n", {}, "rdds.toml: whois.port: 70000 is not a port number"),
        ([], None, {"RDDS_RDAP_PORT": "99999"}, "environment: RDDS_RDAP_PORT: 99999 is not"),
        ([], None, {"RDDS_WHOIS_PORT": "-5"}, "environment: RDDS_WHOIS_PORT: -5 is not"),
        ([], None, {"RDDS_RDAP_PORT": "eighty"}, "environment: RDDS_RDAP_PORT: 'eighty' is not"),
    ],
)
def test_bad_ports_are_one_line_from_every_source(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    demo_replica: Path,
    argv: list[str],
    config: str | None,
    env: dict[str, str],
    message: str,
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    if config is not None:
        (tmp_path / "rdds.toml").write_text(config)
        monkeypatch.chdir(tmp_path)
        argv = [*argv, "--config", "rdds.toml"]
    code, _, err = run_main(capsys, "serve", "--replica", str(demo_replica), *argv)
    assert code == 2 and err == f"rdds: {err[6:]}" and err.count("\n") == 1
    assert message in err and "Traceback" not in err


def test_bad_listen_settings_end_the_real_process_with_one_line(demo_replica: Path) -> None:
    """GIVEN `rdds serve` (the real process) with a port, host or address it cannot listen on
    THEN one line on stderr, exit 2, and no process left behind (it used to hang)."""
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    taken = str(busy.getsockname()[1])
    cases = {
        "port out of range": (["--rdap-port", "99999"], "--rdap-port: 99999 is not a port"),
        "unresolvable host": (
            ["--host", "no-such-host.invalid", "--rdap-port", "0"],
            "cannot listen on no-such-host.invalid:0 for RDAP: cannot resolve the host",
        ),
        # 192.0.2.1 is a documentation address (RFC 5737): no machine has it, so it fails.
        "address not on this machine": (
            ["--host", "192.0.2.1", "--rdap-port", "0"],
            "cannot listen on 192.0.2.1:0 for RDAP: Cannot assign requested address",
        ),
        "RDAP port in use": (
            ["--rdap-port", taken, "--whois-port", "0"],
            f"cannot listen on 127.0.0.1:{taken} for RDAP:",
        ),
        # The RDAP server and the replica are open by then: they must be closed again.
        "WHOIS port in use": (
            ["--rdap-port", "0", "--whois-port", taken],
            f"cannot listen on 127.0.0.1:{taken} for WHOIS:",
        ),
    }
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-m", "rdds", "serve", "--replica", str(demo_replica), *argv],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, (argv, _) in cases.items()
    }
    try:
        for name, proc in procs.items():
            try:
                out, err = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                pytest.fail(f"{name}: still running (hung)")
            assert proc.returncode == 2, (name, err)
            assert err.startswith("rdds: ") and err.count("\n") == 1, (name, err)
            assert cases[name][1] in err and out == "", (name, err)
            with pytest.raises(ProcessLookupError):
                os.kill(proc.pid, 0)  # exited and reaped: nothing left behind
    finally:
        busy.close()
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


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
        name = f"demo-30-v{schema.SCHEMA_VERSION}-r{demo.REVISION}.sqlite"
        assert (tmp_path / "rdds" / name).exists()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert f"RDAP on http://127.0.0.1:{port}/" in out and "stopping" in out
    assert "Traceback" not in out


def _line(proc: subprocess.Popen[str], prefix: str, deadline: float) -> str:
    """The first line of the process's stdout that starts with `prefix`."""
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline()
            if line.startswith(prefix):
                return line
            assert line, "the process ended"
        assert proc.poll() is None, "the process ended"
    raise AssertionError(f"no {prefix!r} line")


def test_port_0_links_use_the_bound_port(demo_replica: Path) -> None:
    """GIVEN `rdds serve --rdap-port 0` and no base URL THEN every link, and the port43
    default, name the port the system picked (they said :0)."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rdds",
            "serve",
            "--replica",
            str(demo_replica),
            "--rdap-port",
            "0",
            "--whois-port",
            "0",
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = _line(proc, "rdds: RDAP on ", time.monotonic() + 60)
        port = int(line.split("http://127.0.0.1:", 1)[1].split("/", 1)[0])
        base = f"http://127.0.0.1:{port}/"
        assert port != 0 and line == f"rdds: RDAP on {base} (links use {base})\n"
        with urllib.request.urlopen(base + "domain/example.org", timeout=30) as resp:
            doc = json.loads(resp.read())
        hrefs = [link["href"] for link in doc["links"]]
        hrefs += [n["links"][0]["value"] for n in doc["notices"]]
        hrefs += [e["links"][0]["href"] for e in doc["entities"] if "links" in e]
        assert f"{base}domain/example.org" in hrefs
        assert all(":0/" not in h for h in hrefs)
        assert all(h.startswith(base) for h in hrefs if "127.0.0.1" in h), hrefs
        assert doc["port43"] == "127.0.0.1"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0


def test_verbose_is_debug_for_rdds_only(demo_replica: Path, tmp_path: Path) -> None:
    """GIVEN `rdds -v serve` THEN rdds's own debug lines are logged (here: a connection
    closed for sending no request head) and libraries' are not (asyncio announces its
    selector at DEBUG when the loop starts).
    Mutation: basicConfig(level=DEBUG if verbose ...) as before -> the asyncio line shows."""
    cfg = tmp_path / "rdds.toml"
    cfg.write_text("[rdap]\nheader_timeout = 0.5\n")
    log_path = tmp_path / "serve.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "rdds", "-v", "serve", "--replica", str(demo_replica)),
                *("--config", str(cfg), "--rdap-port", "0", "--whois-port", "0"),
            ],
            env={**os.environ, "PYTHONPATH": str(ROOT), "RDDS_METRICS_PORT": "0"},
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        deadline = time.monotonic() + 60
        while "rdds: RDAP on " not in log_path.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        line = log_path.read_text().split("rdds: RDAP on ", 1)[1]
        port = int(line.split("http://127.0.0.1:", 1)[1].split("/", 1)[0])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            assert sock.recv(1) == b""  # closed by the server after the head timeout
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    out = log_path.read_text()
    assert "DEBUG rdds.rdap: closed a connection: no request head" in out
    assert "DEBUG asyncio" not in out and "Using selector" not in out
