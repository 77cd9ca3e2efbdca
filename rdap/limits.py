"""RDAP rate limits: a token bucket per client network, kind of request and access tier.

Lookups and searches have separate budgets; each authorized tier has its own. Over budget the
request raises `RateLimited` (429 with `Retry-After`, through the error middleware). Loopback
is not exempt. The handler calls `check` once per request, after identifying the requester.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aiohttp import web

from core.limits import RateLimiter, retry_after
from core.network import network_key
from rdap import query as q
from rdap.observe import CLIENT, FRONTEND, METRICS
from rdap.rates import Budget, Budgets, Kind, RatePolicy
from rdap.search import SEARCH_SEGMENTS, SearchPath
from rdap.settings import RdapSettings, TierRate
from redaction.policy import Requester
from registry.errors import RateLimited


def from_settings(settings: RdapSettings) -> RatePolicy | None:
    """The rate policy of the `[rdap]` section (None when `rate_limit = false`)."""
    if not settings.rate_limit:
        return None
    return RatePolicy(
        anonymous=Budgets(
            Budget(settings.rate_per_second, settings.rate_burst),
            Budget(settings.search_rate_per_second, settings.search_rate_burst),
        ),
        tiers={t.name: _tier_budgets(t) for t in settings.tier_rates},
        authorized=_tier_budgets(TierRate()),
        ipv4_prefix=settings.ipv4_prefix,
        ipv6_prefix=settings.ipv6_prefix,
    )


def _tier_budgets(t: TierRate) -> Budgets:
    return Budgets(
        Budget(t.rate_per_second, t.rate_burst),
        Budget(t.search_rate_per_second, t.search_rate_burst),
    )


def kind_of(query: q.Query) -> Kind:
    """What `query` costs: searches (RFC 9082 §3.2, RFC 9536) have a budget of their own."""
    return Kind.SEARCH if isinstance(query, SearchPath) else Kind.LOOKUP


def kind_of_path(path: str) -> Kind:
    """What a request for `path` costs, before it is parsed (a cached answer's)."""
    first = path.split("/", 2)[1] if path.startswith("/") else ""
    return Kind.SEARCH if first in SEARCH_SEGMENTS else Kind.LOOKUP


class Limits:
    """The running limiter: one token bucket per (tier, kind) and client network."""

    def __init__(self, policy: RatePolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self.clock = clock
        self._limiters: dict[tuple[str, Kind], RateLimiter] = {}

    def _limiter(self, tier: str, kind: Kind) -> RateLimiter:
        limiter = self._limiters.get((tier, kind))
        if limiter is None:
            budget = self.policy.budgets(tier).of(kind)
            limiter = self._limiters[tier, kind] = RateLimiter(budget.rate, budget.burst)
        return limiter

    def has_token(self, client: str, tier: str, kind: Kind = Kind.LOOKUP) -> bool:
        """Whether `check` would pass for `client`'s network now (takes nothing)."""
        key = network_key(client, self.policy.ipv4_prefix, self.policy.ipv6_prefix)
        return self._limiter(tier, kind).has_token(key, self.clock())

    def check(self, client: str, tier: str, kind: Kind = Kind.LOOKUP) -> None:
        """Take one token for `client`'s network; raise `RateLimited` when none is left."""
        key = network_key(client, self.policy.ipv4_prefix, self.policy.ipv6_prefix)
        wait = self._limiter(tier, kind).take(key, self.clock())
        if wait > 0.0:
            raise RateLimited(retry_after=retry_after(wait))


LIMITS = web.AppKey("rate_limits", Limits)


def client_of(request: web.BaseRequest) -> str:
    """The address limits apply to: the client as `rdap.observe` found it (the TCP peer, or
    behind a trusted proxy the address it forwarded)."""
    return request.get(CLIENT) or request.remote or ""


def check(request: web.Request, requester: Requester, kind: Kind = Kind.LOOKUP) -> None:
    """Charge one request of `kind` to the requester's network and tier (no-op without
    limits); raises `RateLimited`. The search handler calls this with `Kind.SEARCH`."""
    limits = request.app.get(LIMITS)
    if limits is not None:
        try:
            limits.check(client_of(request), requester.tier, kind)
        except RateLimited:
            request.app[METRICS].limited(FRONTEND, kind)  # labels: front-end and budget only
            raise
