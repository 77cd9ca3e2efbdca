"""Reload on SIGHUP: a real `rdds serve` process, one keep-alive connection across the
reload; and the reload rules (live, needs restart, refused) in process."""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from access import credentials
from rdds import config, reload, service
from tests.whois_support import ask

ROOT = Path(__file__).resolve().parent.parent.parent


def config_text(reason: str, *, rdap_port: int = 0, extra: str = "") -> str:
    return (
        f'[rdap]\nport = {rdap_port}\nbase_url = "https://rdap.registry.example/"\n'
        f"[whois]\nport = 0\n[metrics]\nport = 0\n{extra}"
        f'[default]\nreason = "{reason}"\n'
    )


def reasons(body: bytes) -> set[str]:
    doc = json.loads(body)
    return {r["reason"]["description"] for r in doc.get("redacted", []) if "reason" in r}


def wait_for(log: Path, text: str, proc: subprocess.Popen[bytes], count: int = 1) -> str:
    """Wait (bounded) until `text` appears `count` times in the server's log."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        content = log.read_text(errors="replace")
        if content.count(text) >= count:
            return content
        assert proc.poll() is None, content
        time.sleep(0.05)
    pytest.fail(f"no {text!r} in the log: {log.read_text()}")


@pytest.fixture
def served(
    tmp_path: Path, demo_replica: Path
) -> Iterator[tuple[subprocess.Popen[bytes], Path, Path]]:
    cfg = tmp_path / "rdds.toml"
    cfg.write_text(config_text("Policy A"))
    log = tmp_path / "serve.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("RDDS_METRICS_PORT", None)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "rdds", "serve"),
                *("--replica", str(demo_replica), "--config", str(cfg)),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(log, "rdds: metrics and health on", proc)
        yield proc, cfg, log
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def rdap_port(log: Path) -> int:
    line = next(x for x in log.read_text().splitlines() if x.startswith("rdds: RDAP on"))
    return int(line.split("http://127.0.0.1:", 1)[1].split("/", 1)[0])


def whois_port(log: Path) -> int:
    line = next(x for x in log.read_text().splitlines() if x.startswith("rdds: WHOIS on"))
    return int(line.rsplit(" ", 1)[1])


def test_sighup_changes_answers_on_the_same_keep_alive_connection(
    served: tuple[subprocess.Popen[bytes], Path, Path],
) -> None:
    proc, cfg, log = served
    # GIVEN a keep-alive connection that got an answer under policy A (now cached)
    conn = http.client.HTTPConnection("127.0.0.1", rdap_port(log), timeout=10)
    try:
        for _ in range(2):
            conn.request("GET", "/domain/example.org")
            resp = conn.getresponse()
            assert resp.status == 200 and reasons(resp.read()) == {"Policy A"}
        sock = conn.sock
        assert sock is not None
        # WHEN the policy file changes and the process gets SIGHUP
        cfg.write_text(config_text("Policy B"))
        proc.send_signal(signal.SIGHUP)
        content = wait_for(log, "reloaded ", proc)
        assert "policy" in content.split("reloaded ", 1)[1].splitlines()[0]
        # THEN the same connection (never closed) gets answers under policy B: the cache
        # was flushed
        conn.request("GET", "/domain/example.org")
        resp = conn.getresponse()
        assert resp.status == 200 and reasons(resp.read()) == {"Policy B"}
        assert conn.sock is sock and resp.getheader("Connection", "").lower() != "close"

        # WHEN the new file is broken and the process gets SIGHUP again
        cfg.write_text(config_text("Policy C") + "[tld.org]\nsurprise = 1\n")
        proc.send_signal(signal.SIGHUP)
        content = wait_for(log, "reload refused", proc)
        # THEN one line names the file, the key and the problem, and policy B stays
        refused = [x for x in content.splitlines() if "reload refused" in x]
        assert len(refused) == 1
        assert f"{cfg}: tld.org.surprise: unknown key" in refused[0]
        assert "the previous settings stay" in refused[0]
        conn.request("GET", "/domain/example.org")
        resp = conn.getresponse()
        assert resp.status == 200 and reasons(resp.read()) == {"Policy B"}
        assert conn.sock is sock

        # WHEN a setting that cannot change live changes, THEN "needs restart", nothing else
        cfg.write_text(config_text("Policy B", rdap_port=1))
        proc.send_signal(signal.SIGHUP)
        content = wait_for(log, "needs restart", proc)
        assert "needs restart: rdap.port" in content
        conn.request("GET", "/help")
        assert conn.getresponse().status == 200 and conn.sock is sock
        # AND WHOIS still answers
        answer = asyncio.run(ask(whois_port(log), b"example.org\r\n"))
        assert b"Domain Name: example.org" in answer
    finally:
        conn.close()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0


# --- in process: the rules ------------------------------------------------------------------


def test_changed_and_effective_settings() -> None:
    old = config.parse(config_text("A"), "rdds.toml")
    new = config.parse(
        '[rdap]\nport = 8081\nbase_url = "https://rdap.registry.example/"\n'
        "[whois]\nport = 4343\nrate_burst = 3\n[metrics]\nport = 0\n"
        '[default]\nreason = "B"\n',
        "rdds.toml",
    )
    keys = reload.changed(old, new)
    assert keys == ["rdap.port", "whois.port", "whois.rate_burst", "policy"]
    assert [k for k in keys if k in reload.LIVE] == ["whois.rate_burst", "policy"]
    now = reload.effective(old, new)
    # Live keys take the new value; the others keep the running one.
    assert now.policy == new.policy and now.whois.rate_burst == 3
    assert now.rdap.port == old.rdap.port and now.whois.port == old.whois.port
    assert reload.changed(now, new) == ["rdap.port", "whois.port"]


async def test_reload_applies_whois_limits_and_refuses_a_broken_credential_store(
    tmp_path: Path, demo_replica: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "access"
    text = config_text("A", extra=f'[auth]\ndata_dir = "{data}"\n')
    settings = replace(config.parse(text, "rdds.toml"), replica=demo_replica)
    running = await service.start(settings)
    try:
        files = {"text": text}
        r = service.reloader(
            running,
            settings,
            lambda: replace(config.parse(files["text"], "rdds.toml"), replica=demo_replica),
            "rdds.toml",
            configure_logs=False,
        )
        assert running.whois is not None
        # WHEN the WHOIS burst changes, THEN the running limiter takes it
        files["text"] = text.replace("[whois]\nport = 0\n", "[whois]\nport = 0\nrate_burst = 7\n")
        with caplog.at_level(logging.INFO, logger="rdds.reload"):
            assert r.reload()
        assert running.whois.limiter.burst == 7 and running.whois.settings.rate_burst == 7
        assert "reloaded rdds.toml: whois.rate_burst" in caplog.text
        # WHEN the credential store is corrupt, THEN the reload is refused, naming it
        (data / credentials.FILE).write_text("{not json")
        files["text"] = text
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="rdds.reload"):
            assert not r.reload()
        lines = [rec.getMessage() for rec in caplog.records]
        assert len(lines) == 1 and "reload refused: credential store" in lines[0]
        assert str(data / credentials.FILE) in lines[0]
        assert running.whois.limiter.burst == 7  # nothing changed
    finally:
        await running.close()
