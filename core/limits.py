"""Per-network limits shared by the front-ends: a token bucket per network key, and connection
caps (total and per network). Pure: the caller passes the clock reading.
"""

from __future__ import annotations

import collections
import enum
import math

#: Token buckets remembered at most (oldest forgotten first: a forgotten bucket is full).
MAX_BUCKETS = 100_000


class RateLimiter:
    """Token bucket per network key: `rate` tokens per second, at most `burst` stored."""

    def __init__(self, rate: float, burst: int, max_keys: int = MAX_BUCKETS) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self.max_keys = max_keys
        self._buckets: collections.OrderedDict[str, tuple[float, float]] = collections.OrderedDict()

    def allow(self, key: str, now: float) -> bool:
        """Take one token for `key`; False when its bucket is empty."""
        return self.take(key, now) == 0.0

    def _refilled(self, found: tuple[float, float] | None, now: float) -> float:
        """The tokens of a bucket as stored (`found`; None: not remembered, so full) at `now`."""
        if found is None:
            return float(self.burst)
        tokens, last = found
        return min(float(self.burst), tokens + max(0.0, now - last) * self.rate)

    def has_token(self, key: str, now: float) -> bool:
        """Whether `take` would take one for `key` now; takes nothing, changes nothing."""
        return self._refilled(self._buckets.get(key), now) >= 1.0

    def take(self, key: str, now: float) -> float:
        """Take one token for `key`: 0.0 when taken, else the seconds until one is there."""
        tokens = self._refilled(self._buckets.pop(key, None), now)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait

    def __len__(self) -> int:
        return len(self._buckets)


def retry_after(wait: float) -> int:
    """A wait in seconds as a `Retry-After` value (RFC 9110 §10.2.3: whole seconds, >= 1)."""
    return max(1, math.ceil(wait))


class Cap(enum.StrEnum):
    """Which connection cap refused a connection (a metric label: a closed set)."""

    TOTAL = "total"  # every open connection of the front-end (`max_connections`)
    PER_NETWORK = "per_network"  # one client network's (`max_per_address`)


class ConnectionCaps:
    """Open connections counted in total and per network key; `admit` says whether one more
    may stay open. A refused connection is not counted (nothing to release)."""

    __slots__ = ("_per_key", "max_per_key", "max_total", "total")

    def __init__(self, max_total: int, max_per_key: int) -> None:
        self.max_total = max_total
        self.max_per_key = max_per_key
        self.total = 0
        self._per_key: dict[str, int] = {}

    def admit(self, key: str) -> bool:
        """Count one more connection from `key` in; False (and not counted) over a cap."""
        return self.refusal(key) is None

    def refusal(self, key: str) -> Cap | None:
        """Count one more connection from `key` in and return None, or return the cap that
        refuses it (and count nothing)."""
        if self.total >= self.max_total:
            return Cap.TOTAL
        count = self._per_key.get(key, 0)
        if count >= self.max_per_key:
            return Cap.PER_NETWORK
        self._per_key[key] = count + 1
        self.total += 1
        return None

    def release(self, key: str) -> None:
        """Count one admitted connection from `key` out."""
        count = self._per_key.get(key, 0)
        if count <= 0:
            return
        self.total -= 1
        if count == 1:
            del self._per_key[key]
        else:
            self._per_key[key] = count - 1

    def count(self, key: str) -> int:
        """Open connections from `key`."""
        return self._per_key.get(key, 0)
