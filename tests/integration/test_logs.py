"""Logs: JSON lines from the running service, with no queried name in them; the client
network from X-Forwarded-For only behind a trusted proxy."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from core import logs
from rdds import config, service
from tests.whois_support import ask

ROOT = Path(__file__).resolve().parent.parent.parent
NAMES = ("example.org", "no-such-name.org", "journalist")


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Everything logged during the test, formatted by the JSON formatter."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.formatter("json"))
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(old)


def settings_for(replica: Path, trusted: tuple[str, ...] = ()) -> config.Settings:
    s = config.Settings(replica=replica, trusted_proxies=trusted)
    return replace(
        s,
        rdap=replace(s.rdap, port=0),
        whois=replace(s.whois, port=0),
        metrics=replace(s.metrics, port=0),
    )


async def rdap_get(port: int, path: str, headers: dict[str, str] | None = None) -> str:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{path}", headers=headers) as resp,
    ):
        await resp.read()
        return resp.headers["X-Request-Id"]


def access_lines(out: io.StringIO) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    return [r for r in records if "frontend" in r]


async def wait_lines(out: io.StringIO, count: int) -> list[dict[str, Any]]:
    # The access line is written after the answer is sent: wait (bounded) for it.
    for _ in range(200):
        lines = access_lines(out)
        if len(lines) >= count:
            return lines
        await asyncio.sleep(0.01)
    return access_lines(out)


async def test_json_lines_parse_and_hold_no_queried_name(
    demo_replica: Path, json_lines: io.StringIO
) -> None:
    running = await service.start(settings_for(demo_replica))
    try:
        # WHEN names are looked up on both front-ends
        rids = [
            await rdap_get(running.rdap_port, "/domain/example.org"),
            await rdap_get(running.rdap_port, "/domain/no-such-name.org?x=journalist"),
        ]
        assert running.whois_port is not None
        await ask(running.whois_port, b"example.org\r\n")
        lines = await wait_lines(json_lines, 3)
    finally:
        await running.close()
    text = json_lines.getvalue()
    # THEN every line is one JSON object with time and level
    for line in text.splitlines():
        record = json.loads(line)
        assert record["time"].endswith("Z") and record["level"] in {"info", "warning", "error"}
    # AND the access lines carry the fields, the request id of the response header
    rdap = [r for r in lines if r["frontend"] == "rdap"]
    assert [(r["route"], r["status"], r["method"]) for r in rdap] == [
        ("domain", 200, "GET"),
        ("domain", 404, "GET"),
    ]
    assert [r["request_id"] for r in rdap] == rids
    assert all(r["client"] == "127.0.0.0/24" and r["duration_ms"] >= 0 for r in rdap)
    whois = [r for r in lines if r["frontend"] == "whois"]
    assert [(r["route"], r["status"], r["client"]) for r in whois] == [
        ("domain", 200, "127.0.0.0/24")
    ]
    assert len(whois[0]["request_id"]) == 16
    # AND no queried name, query string or full address anywhere
    for secret in (*NAMES, "127.0.0.1"):
        assert secret not in text


@pytest.mark.parametrize(
    ("trusted", "forwarded", "client"),
    [
        ((), "198.51.100.7", "127.0.0.0/24"),  # nobody trusted: the header is ignored
        (("127.0.0.1/32",), "198.51.100.7", "198.51.100.0/24"),
        (("127.0.0.1/32",), "6.6.6.6, 198.51.100.7", "198.51.100.0/24"),  # rightmost wins
        (("10.0.0.0/8",), "198.51.100.7", "127.0.0.0/24"),  # the peer is not a proxy
    ],
)
async def test_access_log_client_behind_trusted_proxies(
    demo_replica: Path,
    json_lines: io.StringIO,
    trusted: tuple[str, ...],
    forwarded: str,
    client: str,
) -> None:
    running = await service.start(settings_for(demo_replica, trusted))
    try:
        await rdap_get(running.rdap_port, "/help", {"X-Forwarded-For": forwarded})
        lines = await wait_lines(json_lines, 1)
    finally:
        await running.close()
    assert [r["client"] for r in lines if r["frontend"] == "rdap"] == [client]


def test_serve_with_json_format_writes_json_lines(tmp_path: Path, demo_replica: Path) -> None:
    # GIVEN `rdds serve` with [log] format = "json"
    cfg = tmp_path / "rdds.toml"
    cfg.write_text(
        '[rdap]\nport = 0\n[whois]\nport = 0\n[metrics]\nport = 0\n[log]\nformat = "json"\n'
    )
    out, err = tmp_path / "out.log", tmp_path / "err.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with out.open("wb") as o, err.open("wb") as e:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rdds",
                "serve",
                "--replica",
                str(demo_replica),
                "--config",
                str(cfg),
            ],
            env=env,
            stdout=o,
            stderr=e,
        )
    try:
        deadline = time.monotonic() + 30
        while "metrics and health" not in out.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, err.read_text()
            time.sleep(0.05)
        port = int(out.read_text().split("RDAP on http://127.0.0.1:", 1)[1].split("/", 1)[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/domain/example.org") as resp:
            assert resp.status == 200
        # WHEN it stops, THEN every stderr line is a JSON object; the access line is there
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    records = [json.loads(line) for line in err.read_text().splitlines()]
    assert any(r.get("frontend") == "rdap" and r.get("route") == "domain" for r in records)
    assert "example.org" not in err.read_text()
