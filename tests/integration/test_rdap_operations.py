"""The RDAP service as the composition root starts it (`rdds.service.start`, real sockets on
127.0.0.1): the access log carries no personal data, an internal error is an RDAP 500, an
unreadable replica an RDAP 503, and neither is cached.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from access import credentials, disclosures
from access.credentials import CredentialStore
from access.settings import AuthSettings
from core.metrics import MetricsSettings
from core.network import truncate_address
from rdap.settings import RdapSettings
from rdds import service
from rdds.config import Settings
from whois43.settings import WhoisSettings

BASE = "https://rdap.registry.example/"


@pytest.mark.parametrize(
    ("address", "logged"),
    [
        ("192.0.2.123", "192.0.2.0/24"),
        ("198.51.100.7", "198.51.100.0/24"),
        ("2001:db8:1234:5678:9abc::1", "2001:db8:1234::/48"),
        ("2a0f:9400:7e11:ffff::53", "2a0f:9400:7e11::/48"),
        ("::1", "::/48"),
        ("not an address", "-"),
        ("", "-"),
        (None, "-"),
    ],
)
def test_addresses_are_truncated(address: str | None, logged: str) -> None:
    # IPv4 to /24, IPv6 to /48: enough for abuse handling, not a subscriber's address.
    assert truncate_address(address) == logged


@pytest.fixture
def replica(demo_replica: Path, tmp_path: Path) -> Path:
    path = tmp_path / "replica.sqlite"
    shutil.copyfile(demo_replica, path)
    return path


def settings(replica: Path, data_dir: Path | None = None) -> Settings:
    return Settings(
        host="127.0.0.1",
        replica=replica,
        rdap=RdapSettings(port=0, base_url=BASE, refresh_seconds=3600.0),
        whois=WhoisSettings(enabled=False),
        auth=AuthSettings(data_dir=data_dir),
        metrics=MetricsSettings(port=0),  # never the default metrics port
    )


@pytest.fixture
async def running(replica: Path, tmp_path: Path) -> AsyncIterator[tuple[service.Running, str]]:
    data_dir = tmp_path / "access"
    disclosures.set_up(data_dir)  # starts the chain: the anchor vouches for an empty log
    cred, token = credentials.issue(
        "law-enforcement", "Example Police", ("legalActions",), dt.datetime.now(dt.UTC)
    )
    CredentialStore(data_dir).add(cred)
    up = await service.start(settings(replica, data_dir))
    try:
        yield up, token
    finally:
        await up.close()


async def get(
    port: int, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{path}", headers=headers or {}) as resp,
    ):
        body = await resp.read()
        return resp.status, dict(resp.headers), orjson.loads(body)


async def test_access_log_has_kind_status_and_a_truncated_address_only(
    running: tuple[service.Running, str], caplog: pytest.LogCaptureFixture
) -> None:
    """GIVEN the service with authorized access WHEN names, handles, a bearer token and query
    strings are sent THEN each access-log line holds the /24, the method, the query kind and
    the status, and none of what was asked.

    Mutations that fail this, in rdap/accesslog.py: logging `request.remote` instead of its
    truncation; logging `request.path` (or `request.path_qs`) instead of the kind."""
    up, token = running
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    secret = {"Authorization": f"Bearer {token}"}
    asked = [
        ("/domain/example.org", {}, 200),
        ("/domain/example.org?purpose=legalActions", secret, 200),
        ("/entity/EXCOOP-1", {}, 200),  # a verified organisation: its handle is public
        ("/nameserver/ns1.example.coop", {}, 200),
        ("/domain/dara-ashdown.org", {}, 404),
        ("/domain/example.org?q=Dara+Ashdown", {"Authorization": "Bearer rdds_forged"}, 401),
        ("/help", {}, 200),
    ]
    for path, headers, status in asked:
        assert (await get(up.rdap_port, path, headers))[0] == status, path
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert len(lines) == len(asked)
    kinds = ["/domain", "/domain", "/entity", "/nameserver", "/domain", "/domain", "/help"]
    for line, kind, (_, _, status) in zip(lines, kinds, asked, strict=True):
        assert line.startswith(f"127.0.0.0/24 GET {kind} {status} "), line
    text = "\n".join(lines)
    for secret_text in (
        "127.0.0.1",
        "example.org",
        "EXCOOP-1",
        "ns1.example.coop",
        "dara",
        "Dara",
        "purpose",
        "?",
        token,
        "rdds_forged",
        "Bearer",
    ):
        assert secret_text not in text, secret_text


async def test_internal_error_is_an_rdap_500_and_not_cached(
    replica: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """GIVEN a replica row the store cannot decode (a contact kind that does not exist)
    WHEN a domain referencing it is asked THEN the answer is an RDAP 500 that shows no
    internals; once the row is repaired the same request answers 200 (the 500 was not
    cached).

    Mutation that fails this: rdap/errors.py answering the unexpected exception's text
    (`RddsError(str(exc))`) instead of the bare RddsError()."""
    conn = sqlite3.connect(replica)
    with conn:
        conn.execute("UPDATE contact SET kind = 'zq-alien' WHERE id = 'EXORG-1'")
    up = await service.start(settings(replica))
    try:
        caplog.set_level(logging.ERROR, logger="rdds.rdap")
        status, headers, doc = await get(up.rdap_port, "/domain/example.org")
        assert status == 500
        assert headers["Content-Type"] == "application/rdap+json"
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert doc["errorCode"] == 500 and doc["rdapConformance"][0] == "rdap_level_0"
        body = orjson.dumps(doc).decode()
        for internal in ("zq-alien", "PersonKind", "ValueError", "Traceback", "sqlite", ".py"):
            assert internal not in body, internal
        assert any("internal error" in r.getMessage() for r in caplog.records)
        with conn:
            conn.execute("UPDATE contact SET kind = 'natural' WHERE id = 'EXORG-1'")
        status, _, doc = await get(up.rdap_port, "/domain/example.org")
        assert status == 200 and doc["ldhName"] == "example.org"
    finally:
        conn.close()
        await up.close()


def overwrite(path: Path, data: bytes | None) -> bytes:
    """Write `data` (None: zeros) over the file in place (same inode); the old bytes."""
    old = path.read_bytes()
    with path.open("r+b") as fh:
        fh.write(b"\0" * len(old) if data is None else data)
    return old


async def test_unreadable_replica_is_an_rdap_503_and_not_cached(replica: Path) -> None:
    """GIVEN a running service WHEN its replica file is overwritten with zeros THEN lookups
    answer an RDAP 503 with Retry-After, naming no path; once the file is back, the same
    request answers 200 (errors from an unavailable replica are never cached).

    Mutation that fails this: rdap/handler.py rendering and caching every RddsError itself
    (`except NotFound` widened to the RddsError root, with `Answer(exc.status, ...)`)."""
    up = await service.start(settings(replica))
    try:
        assert (await get(up.rdap_port, "/domain/example.org"))[0] == 200
        data = overwrite(replica, None)
        status, headers, doc = await get(up.rdap_port, "/domain/consent.org")
        assert status == 503
        assert headers["Retry-After"] and headers["Access-Control-Allow-Origin"] == "*"
        assert doc["errorCode"] == 503
        body = orjson.dumps(doc).decode()
        assert doc["description"] and str(replica) not in body
        assert "malformed" not in body and "sqlite" not in body.lower()
        overwrite(replica, data)
        status, _, doc = await get(up.rdap_port, "/domain/consent.org")
        assert status == 200 and doc["ldhName"] == "consent.org"
    finally:
        await up.close()
