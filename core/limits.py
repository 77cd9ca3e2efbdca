"""Per-network rate limiting shared by the front-ends: a token bucket per network key. Pure:
the caller passes the clock reading.
"""

from __future__ import annotations

import collections

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
        tokens, last = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return allowed

    def __len__(self) -> int:
        return len(self._buckets)
