"""Per-network keys and the token bucket of the WHOIS responder; the pure modules stay pure."""

from __future__ import annotations

import subprocess
import sys

from core.limits import RateLimiter
from core.network import network_key


def test_network_key() -> None:
    assert network_key("192.0.2.7") == "192.0.2.7"
    # One IPv6 subscriber LAN is one unit, or per-address limits would be trivial to evade.
    assert network_key("2001:db8:1:2:aaaa::1") == network_key("2001:db8:1:2:bbbb::9")
    assert network_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert network_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert network_key("not-an-ip") == "not-an-ip"


def test_token_bucket_burst_then_rate() -> None:
    rl = RateLimiter(rate=2.0, burst=3)
    assert [rl.allow("a", 100.0) for _ in range(4)] == [True, True, True, False]
    assert rl.allow("b", 100.0)  # another network has its own bucket
    assert not rl.allow("a", 100.4)  # 0.8 token: not yet
    assert rl.allow("a", 100.5)  # a full token after 0.5 s at 2/s
    assert [rl.allow("a", 1000.0) for _ in range(4)] == [True, True, True, False]  # capped


def test_bucket_memory_is_bounded() -> None:
    rl = RateLimiter(rate=1.0, burst=1, max_keys=100)
    for i in range(1000):
        rl.allow(f"10.0.{i // 256}.{i % 256}", 0.0)
    assert len(rl) == 100


def test_pure_modules_import_no_io_frameworks() -> None:
    code = (
        "import sys, whois43.protocol, whois43.render; "
        "bad = [m for m in ('aiosqlite', 'aiohttp.web', 'asyncio') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
