"""RDAP rate limits through the application on a real demo replica: 429 with an RFC 9083 body
and Retry-After, recovery (injected clock), per tier with a real credential; the
`[rdap.rate.TIER]` configuration."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient

from access.service import build
from access.settings import AuthSettings
from core.lookup import Lookup
from rdap.limits import LIMITS, Limits
from rdap.rates import Budget, Budgets, RatePolicy
from rdap.server import make_app
from rdap.settings import RdapConfig
from rdds import config
from redaction.policy import default_policy
from registry.errors import ConfigError
from replica.store import SqliteStore
from tests.integration.conftest import BASE
from tests.integration.test_access_rdap import CRIME, LE, bearer, issue

Client = TestClient[Any, Any]


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def connect(
    store: SqliteStore, clock: Clock, aiohttp_client: Callable[..., Awaitable[Client]]
) -> Callable[..., Awaitable[Client]]:
    async def make(rate: RatePolicy, access: Any = None) -> Client:
        app = make_app(
            Lookup(store, default_policy()),
            RdapConfig(base_url=BASE, port43="whois.registry.example", rate=rate),
            access,
        )
        app[LIMITS] = Limits(rate, clock)  # the same policy on a clock the test moves
        return await aiohttp_client(app)

    return make


def anonymous(rate: float, burst: int) -> RatePolicy:
    return RatePolicy(anonymous=Budgets(Budget(rate, burst), Budget(rate, burst)))


async def test_over_budget_is_429_with_an_rdap_error_and_retry_after(
    connect: Callable[..., Awaitable[Client]], clock: Clock
) -> None:
    client = await connect(anonymous(rate=0.25, burst=2))
    for _ in range(2):
        async with client.get("/domain/example.org") as resp:
            assert resp.status == 200
    async with client.get("/domain/example.org") as resp:
        assert resp.status == 429
        assert resp.headers["Retry-After"] == "4"  # one token every 4 s
        assert resp.content_type == "application/rdap+json"
        assert "Retry-After" in resp.headers["Access-Control-Expose-Headers"]
        doc = orjson.loads(await resp.read())
    assert doc["errorCode"] == 429
    assert doc["title"] == "Too Many Requests"
    assert doc["rdapConformance"][0] == "rdap_level_0"
    # Errors and help count too: a crawler cannot step around the budget with them.
    async with client.get("/nameserver/ns1.example.org") as resp:
        assert resp.status == 429
    clock.now += 3.9
    async with client.get("/help") as resp:
        assert resp.status == 429
        assert resp.headers["Retry-After"] == "1"
    clock.now += 0.2  # a token has come back
    async with client.get("/domain/example.org") as resp:
        assert resp.status == 200
    async with client.get("/domain/example.org") as resp:
        assert resp.status == 429


async def test_an_authorized_tier_has_its_own_budget(
    connect: Callable[..., Awaitable[Client]], tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    _, token = issue(data_dir, LE, (CRIME,))
    rate = RatePolicy(
        anonymous=Budgets(Budget(0.01, 1), Budget(0.01, 1)),
        tiers={LE: Budgets(Budget(0.01, 3), Budget(0.01, 1))},
    )
    client = await connect(rate, build(AuthSettings(data_dir=data_dir), default_policy()))
    async with client.get("/domain/example.org") as resp:
        assert resp.status == 200
    async with client.get("/domain/example.org") as resp:
        assert resp.status == 429  # the public budget is spent
    headers = {**bearer(token), "Accept": "application/rdap+json"}
    for _ in range(3):
        async with client.get(f"/domain/example.org?purpose={CRIME}", headers=headers) as resp:
            assert resp.status == 200
    async with client.get(f"/domain/example.org?purpose={CRIME}", headers=headers) as resp:
        assert resp.status == 429


async def test_no_rate_policy_means_no_limit(
    store: SqliteStore, aiohttp_client: Callable[..., Awaitable[Client]]
) -> None:
    app = make_app(Lookup(store, default_policy()), RdapConfig(base_url=BASE, port43=None))
    client = await aiohttp_client(app)
    for _ in range(30):
        async with client.get("/help") as resp:
            assert resp.status == 200


def test_tier_budgets_from_the_configuration() -> None:
    settings = config.parse(
        """
[rdap]
rate_per_second = 3.0
rate_burst = 9
ipv6_prefix = 56

[rdap.rate.law-enforcement]
rate_per_second = 30.0
rate_burst = 90
"""
    )
    assert settings.rdap.rate_burst == 9 and settings.rdap.ipv6_prefix == 56
    [tier] = settings.rdap.tier_rates
    assert (tier.name, tier.rate_per_second, tier.rate_burst) == ("law-enforcement", 30.0, 90)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[rdap.rate.nobody]\nrate_burst = 1", "rdap.rate.nobody: not a tier of the policy"),
        ("[rdap.rate.registrar]\nburst = 1", "rdap.rate.registrar.burst: unknown key"),
        ("[rdap]\nipv6_prefix = 129", "rdap.ipv6_prefix: expected 1-128"),
        ("[rdap]\nrate_burst = 0", "rdap.rate_burst: expected a positive integer"),
        ("[rdap]\nrate_per_second = 0", "rdap.rate_per_second: expected a positive number"),
        ("[rdap]\nrate = 5", "rdap.rate: expected a table of tiers"),
    ],
)
def test_bad_rate_settings_are_one_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config.parse(text, "rdds.toml")
    assert message in caught.value.message
