"""No answer, page or log line says why a person's data is withheld beyond the configured
RFC 9537 reason (issue 11, item 6): GIVEN the demo's at-risk registrant, WHEN anyone asks
about it over RDAP (anonymous, a tier below the top, the top tier) or WHOIS, THEN neither the
answers, nor /help, nor the log lines, nor the disclosure record mention "risk"."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from access import credentials
from access.credentials import CredentialStore
from access.service import build
from access.settings import AuthSettings
from core.lookup import Lookup
from rdap.accesslog import AccessLogger
from rdap.server import make_app
from rdap.settings import RdapConfig
from redaction.policy import Requester, default_policy
from registry import names
from replica.store import SqliteStore
from whois43 import render as whois_render

Client = TestClient[Any, Any]
PATHS = ("/domain/journalist.org", "/entity/JOURNO-1", "/entity/R9100-TECH", "/help")


def _token(data_dir: Path, tier: str, purpose: str) -> dict[str, str]:
    credentials.ensure_dir(data_dir)
    cred, secret = credentials.issue(tier, "Example Org", (purpose,), dt.datetime.now(dt.UTC))
    CredentialStore(data_dir).add(cred)
    return {"Authorization": f"Bearer {secret}"}


async def test_nothing_says_at_risk(
    store: SqliteStore,
    tmp_path: Path,
    aiohttp_client: Callable[..., Awaitable[Client]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    data_dir = tmp_path / "data"
    policy = default_policy()
    lookup = Lookup(store, policy)
    app = make_app(
        lookup,
        RdapConfig(base_url="https://rdap.example/", port43=None),
        build(AuthSettings(data_dir=data_dir), policy),
    )
    # The service's own access logger, as `rdds serve` runs it.
    server = TestServer(app)
    await server.start_server(access_log_class=AccessLogger)
    client = await aiohttp_client(server)
    who = [
        {},
        _token(data_dir, "law-enforcement", "criminalInvestigationAndDNSAbuse"),
        _token(data_dir, "registry-staff", "dnsTransparency"),
    ]
    # The service's own loggers at every level, everything else from INFO (aiosqlite's DEBUG
    # lines echo SQL, which names columns such as at_risk: not the service's words).
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="rdds")
    seen: list[bytes] = []
    for headers in who:
        for path in PATHS:
            async with client.get(path, headers=headers) as resp:
                assert resp.status in (200, 404)
                seen.append(await resp.read())
    rd = await lookup.domain(names.from_text("journalist.org"), Requester.anonymous())
    seen.append(
        whois_render.domain(rd, whois_render.RenderContext(watermark=lookup.watermark)).encode()
    )
    # The highest tier was shown the withheld data: the disclosure record names fields only.
    log = (data_dir / "disclosures.jsonl").read_bytes()
    assert b"Sami Calder" not in log and b"Registrant Name" in log
    seen.append(log)
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.endswith("ms") and " /entity " in m for m in messages)  # the access log ran
    seen += [m.encode() for m in messages]
    for text in seen:
        assert b"risk" not in text.lower(), text[:200]
    assert any(b"Sami Calder" in text for text in seen)  # the staff answer did come back
