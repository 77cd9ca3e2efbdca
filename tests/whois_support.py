"""Test support for the port-43 WHOIS front-end: a demo replica, a running server, a client."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from core.lookup import Lookup
from redaction.policy import default_policy
from replica import demo
from replica.store import open_store
from whois43 import server as whois_server
from whois43.settings import WhoisSettings

#: The showcase domains of `replica.demo` (golden files are named after their A-labels).
SHOWCASE = (
    "example.coop",
    "unverified.coop",
    "example.org",
    "consent.org",
    "journalist.org",
    "suspended.cx",
    "pending.gs",
    "xn--mgbh0fb.xn--mgbtx2b",
)

#: Settings for tests: loopback, port 0, generous caps unless a test narrows them.
TEST_SETTINGS = WhoisSettings(
    port=0,
    read_timeout=5.0,
    max_connections=200,
    max_per_address=100,
    rate_per_second=1000.0,
    rate_burst=1000,
)

_REPLICA: dict[str, Path] = {}


@pytest.fixture(scope="session")
def replica_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo replica (300 domains, seed 1), built once per test session."""
    if "path" not in _REPLICA:
        path = tmp_path_factory.mktemp("whois-replica") / "demo.sqlite"
        demo.write(path, 300, seed=1)
        _REPLICA["path"] = path
    return _REPLICA["path"]


@pytest.fixture
async def lookup(replica_path: Path) -> AsyncIterator[Lookup]:
    """A lookup core over the demo replica, closed after the test."""
    store = await open_store(replica_path, pool_size=2)
    try:
        yield Lookup(store, default_policy())
    finally:
        await store.close()


@pytest.fixture(autouse=True)
def no_illegal_transitions(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail a test during which any connection attempted a move outside the state table."""
    yield
    bad = [r for r in caplog.records if "illegal state transition" in r.getMessage()]
    assert not bad, f"illegal connection state transitions: {[r.getMessage() for r in bad]}"


async def running(lookup: Lookup, **overrides: object) -> whois_server.WhoisServer:
    """Start a responder on 127.0.0.1 port 0 with TEST_SETTINGS plus overrides."""
    settings = replace(TEST_SETTINGS, **overrides)  # type: ignore[arg-type]
    return await whois_server.start(lookup, settings, "127.0.0.1")


async def ask(port: int, data: bytes, *, eof: bool = False, wait: float = 10.0) -> bytes:
    """Send raw bytes (optionally half-close), read until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        if eof:
            writer.write_eof()
        await writer.drain()
        return await asyncio.wait_for(reader.read(), wait)
    finally:
        writer.close()


def update_golden() -> bool:
    """RDDS_UPDATE_GOLDEN=1 rewrites golden files instead of comparing against them."""
    return os.environ.get("RDDS_UPDATE_GOLDEN") == "1"
