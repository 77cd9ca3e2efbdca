"""RDAP rate-limit budgets: what a tier may spend per client network, as values. Pure."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from redaction.policy import ANONYMOUS


class Kind(enum.StrEnum):
    """What a request costs: a lookup of one object, or a search."""

    LOOKUP = "lookup"
    SEARCH = "search"


@dataclass(frozen=True, slots=True)
class Budget:
    """Sustained requests per second and the burst allowed above it."""

    rate: float
    burst: int

    def share(self, workers: int) -> Budget:
        """One worker's part when `workers` processes each count on their own."""
        return Budget(self.rate / workers, max(1, math.ceil(self.burst / workers)))


@dataclass(frozen=True, slots=True)
class Budgets:
    """The budgets of one access tier."""

    lookup: Budget
    search: Budget

    def of(self, kind: Kind) -> Budget:
        """The budget for requests of `kind`."""
        return self.search if kind is Kind.SEARCH else self.lookup


@dataclass(frozen=True, slots=True)
class RatePolicy:
    """Budgets for the public and per authorized tier, and the client network they cover."""

    anonymous: Budgets
    #: Authorized tiers by name; a tier not listed gets `authorized`.
    tiers: Mapping[str, Budgets] = field(default_factory=dict)
    authorized: Budgets | None = None
    ipv4_prefix: int = 32
    ipv6_prefix: int = 64

    def budgets(self, tier: str) -> Budgets:
        """The budgets of `tier`."""
        if tier == ANONYMOUS:
            return self.anonymous
        return self.tiers.get(tier) or self.authorized or self.anonymous

    def share(self, workers: int) -> RatePolicy:
        """One worker's policy when `workers` processes share the ports (each counts alone;
        the kernel spreads a client's connections over them roughly evenly)."""
        if workers <= 1:
            return self

        def part(b: Budgets) -> Budgets:
            return Budgets(b.lookup.share(workers), b.search.share(workers))

        return replace(
            self,
            anonymous=part(self.anonymous),
            tiers={name: part(b) for name, b in self.tiers.items()},
            authorized=part(self.authorized) if self.authorized else None,
        )
