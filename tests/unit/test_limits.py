"""Token buckets, Retry-After, network keys, connection caps and the RDAP rate policy: pure
tables with an injected clock."""

from __future__ import annotations

import pytest

from core.limits import Cap, ConnectionCaps, RateLimiter, retry_after
from core.network import network_key
from rdap.limits import Limits, from_settings
from rdap.rates import Budget, Budgets, Kind, RatePolicy
from rdap.settings import RdapSettings, TierRate
from registry.errors import RateLimited


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def policy(rate: float = 1.0, burst: int = 2, **kw: object) -> RatePolicy:
    budgets = Budgets(Budget(rate, burst), Budget(rate / 10, 1))
    return RatePolicy(anonymous=budgets, **kw)  # type: ignore[arg-type]


def test_take_reports_the_wait_until_the_next_token() -> None:
    limiter = RateLimiter(rate=2.0, burst=2)
    assert limiter.take("a", 0.0) == 0.0
    assert limiter.take("a", 0.0) == 0.0
    assert limiter.take("a", 0.0) == pytest.approx(0.5)
    assert limiter.take("a", 0.25) == pytest.approx(0.25)  # half a token had come back
    assert limiter.take("a", 0.5) == 0.0
    assert limiter.allow("b", 0.0)  # another key has its own bucket


@pytest.mark.parametrize(
    ("takes", "at", "has"),
    [
        (0, 0.0, True),  # never seen: full
        (1, 0.0, True),
        (2, 0.0, False),  # burst spent
        (2, 0.49, False),
        (2, 0.5, True),  # one token back at 2 a second
        (3, 0.25, False),  # a refused third take spent nothing, and gave nothing back
        (3, 0.5, True),
    ],
)
def test_has_token_says_what_take_would_do_and_takes_nothing(
    takes: int, at: float, has: bool
) -> None:
    limiter = RateLimiter(rate=2.0, burst=2)
    for _ in range(takes):
        limiter.take("a", 0.0)
    before = dict(limiter._buckets)
    assert limiter.has_token("a", at) is has
    assert limiter.has_token("a", at) is has  # asking twice changes nothing
    assert dict(limiter._buckets) == before
    assert (limiter.take("a", at) == 0.0) is has


def test_limits_has_token_per_network_tier_and_kind() -> None:
    clock = Clock()
    limits = Limits(policy(rate=1.0, burst=1), clock)
    limits.check("192.0.2.1", "anonymous")
    assert not limits.has_token("192.0.2.1", "anonymous")
    assert not limits.has_token("192.0.2.1", "anonymous")  # still not: nothing taken
    assert limits.has_token("192.0.2.2", "anonymous")  # another /32
    assert limits.has_token("192.0.2.1", "anonymous", Kind.SEARCH)  # another budget
    clock.now += 1.0
    assert limits.has_token("192.0.2.1", "anonymous")
    limits.check("192.0.2.1", "anonymous")  # and check agrees


def test_a_clock_going_backwards_adds_no_tokens() -> None:
    limiter = RateLimiter(rate=1.0, burst=1)
    assert limiter.allow("a", 10.0)
    assert not limiter.allow("a", 5.0)


@pytest.mark.parametrize(
    ("wait", "header"), [(0.001, 1), (0.5, 1), (1.0, 1), (1.01, 2), (59.2, 60)]
)
def test_retry_after_is_whole_seconds_at_least_one(wait: float, header: int) -> None:
    assert retry_after(wait) == header


@pytest.mark.parametrize(
    ("addr", "v4", "v6", "key"),
    [
        ("192.0.2.7", 32, 64, "192.0.2.7"),
        ("192.0.2.7", 24, 64, "192.0.2.0/24"),
        ("2001:db8:1:2:aaaa::1", 32, 64, "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", 32, 64, "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", 32, 64, "2001:db8:1:3::/64"),
        ("2001:db8:1:2:aaaa::1", 32, 48, "2001:db8:1::/48"),
        ("::ffff:192.0.2.7", 32, 64, "192.0.2.7"),
        ("::ffff:192.0.2.7", 16, 64, "192.0.0.0/16"),
        ("not an address", 32, 64, "not an address"),
    ],
)
def test_network_key_prefixes(addr: str, v4: int, v6: int, key: str) -> None:
    assert network_key(addr, v4, v6) == key


def test_over_budget_raises_429_with_the_wait() -> None:
    clock = Clock()
    limits = Limits(policy(rate=0.5, burst=2), clock)
    limits.check("192.0.2.1", "anonymous")
    limits.check("192.0.2.1", "anonymous")
    with pytest.raises(RateLimited) as caught:
        limits.check("192.0.2.1", "anonymous")
    assert caught.value.status == 429
    assert caught.value.retry_after == 2  # one token every two seconds
    clock.now += 2.0
    limits.check("192.0.2.1", "anonymous")  # recovered


def test_two_addresses_in_one_ipv6_64_share_a_budget_and_other_64s_do_not() -> None:
    limits = Limits(policy(burst=1), Clock())
    limits.check("2001:db8:0:1::a", "anonymous")
    with pytest.raises(RateLimited):
        limits.check("2001:db8:0:1:ffff::b", "anonymous")  # same /64
    limits.check("2001:db8:0:2::a", "anonymous")  # the next /64
    limits.check("192.0.2.1", "anonymous")
    limits.check("192.0.2.2", "anonymous")  # IPv4: per address


def test_a_configured_prefix_widens_the_network() -> None:
    limits = Limits(policy(burst=1, ipv6_prefix=48, ipv4_prefix=24), Clock())
    limits.check("2001:db8:0:1::a", "anonymous")
    with pytest.raises(RateLimited):
        limits.check("2001:db8:0:2::a", "anonymous")
    limits.check("192.0.2.1", "anonymous")
    with pytest.raises(RateLimited):
        limits.check("192.0.2.200", "anonymous")


def test_lookups_and_searches_have_separate_budgets() -> None:
    limits = Limits(policy(burst=1), Clock())
    limits.check("192.0.2.1", "anonymous", Kind.LOOKUP)
    limits.check("192.0.2.1", "anonymous", Kind.SEARCH)
    with pytest.raises(RateLimited):
        limits.check("192.0.2.1", "anonymous", Kind.SEARCH)
    with pytest.raises(RateLimited):
        limits.check("192.0.2.1", "anonymous", Kind.LOOKUP)


def test_each_tier_has_its_own_budget() -> None:
    big = Budgets(Budget(1.0, 3), Budget(1.0, 1))
    small = Budgets(Budget(1.0, 1), Budget(1.0, 1))
    limits = Limits(policy(burst=1, tiers={"law-enforcement": big}, authorized=small), Clock())
    limits.check("192.0.2.1", "anonymous")
    with pytest.raises(RateLimited):
        limits.check("192.0.2.1", "anonymous")
    for _ in range(3):
        limits.check("192.0.2.1", "law-enforcement")
    with pytest.raises(RateLimited):
        limits.check("192.0.2.1", "law-enforcement")
    limits.check("192.0.2.1", "registrar")  # unlisted: the authorized default
    with pytest.raises(RateLimited):
        limits.check("192.0.2.1", "registrar")


def test_from_settings_and_the_per_worker_share() -> None:
    settings = RdapSettings(
        rate_per_second=10.0,
        rate_burst=100,
        tier_rates=(TierRate(name="registrar", rate_per_second=40.0, rate_burst=7),),
    )
    rate = from_settings(settings)
    assert rate is not None
    assert rate.budgets("anonymous").lookup == Budget(10.0, 100)
    assert rate.budgets("registrar").lookup == Budget(40.0, 7)
    assert rate.budgets("law-enforcement").lookup == Budget(50.0, 500)  # TierRate defaults
    half = rate.share(2)
    assert half.budgets("anonymous").lookup == Budget(5.0, 50)
    assert half.budgets("registrar").lookup == Budget(20.0, 4)
    assert rate.share(1) is rate
    assert from_settings(RdapSettings(rate_limit=False)) is None


def test_connection_caps_total_and_per_key() -> None:
    caps = ConnectionCaps(max_total=3, max_per_key=2)
    assert caps.admit("a") and caps.admit("a")
    assert not caps.admit("a")  # per key
    assert caps.admit("b")
    assert not caps.admit("c")  # total
    caps.release("a")
    assert caps.count("a") == 1 and caps.total == 2
    assert caps.admit("c")
    caps.release("zzz")  # never admitted: nothing changes
    assert caps.total == 3


def test_connection_caps_say_which_cap_refuses() -> None:
    caps = ConnectionCaps(max_total=3, max_per_key=2)
    assert [caps.refusal(k) for k in ("a", "a", "a", "b", "c")] == [
        None,
        None,
        Cap.PER_NETWORK,  # a third from one network
        None,
        Cap.TOTAL,  # the front-end is full: checked first, whoever asks
    ]
    assert caps.refusal("a") is Cap.TOTAL
    assert caps.total == 3 and caps.count("a") == 2  # refusals count nothing
    assert [str(c) for c in Cap] == ["total", "per_network"]  # the metric's label values
