"""An RDAP app on the demo replica, served by aiohttp's test server on loopback."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.lookup import Lookup
from rdap.server import make_app
from rdap.settings import RdapConfig
from redaction.policy import default_policy
from replica.store import SqliteStore

BASE = "https://rdap.registry.example/"
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


@pytest.fixture
async def rdap(
    store: SqliteStore, aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]]
) -> TestClient[Any, Any]:
    app = make_app(
        Lookup(store, default_policy()),
        RdapConfig(
            base_url=BASE, port43="whois.registry.example", tos_url="https://registry.example/terms"
        ),
    )
    return await aiohttp_client(app)


@pytest.fixture(scope="module")
def answered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 300-domain demo replica with every answer stored under the default settings."""
    from rdds import answers, config
    from replica import demo

    path = tmp_path_factory.mktemp("answered") / "answers.sqlite"
    demo.write(path, 300, seed=1)
    answers.build(path, config.Settings(replica=path))
    return path
