"""`core.network.client_address`: X-Forwarded-For is believed only from trusted proxies."""

from __future__ import annotations

import pytest

from core.network import client_address, parse_networks

LOCAL = parse_networks(["127.0.0.1/32", "::1/128"])
TWO = parse_networks(["127.0.0.1/32", "10.0.0.0/8"])


@pytest.mark.parametrize(
    ("peer", "xff", "trusted", "expected"),
    [
        # No trusted proxies (the default): the peer, whatever the header says.
        ("192.0.2.7", ["198.51.100.1"], (), "192.0.2.7"),
        ("127.0.0.1", ["198.51.100.1"], (), "127.0.0.1"),
        # A peer that is not a trusted proxy cannot set its address by header.
        ("192.0.2.7", ["198.51.100.1"], LOCAL, "192.0.2.7"),
        # The trusted proxy's header names the client.
        ("127.0.0.1", ["198.51.100.1"], LOCAL, "198.51.100.1"),
        ("::1", ["2001:db8::5"], LOCAL, "2001:db8::5"),
        # No header from a trusted proxy: the proxy itself.
        ("127.0.0.1", [], LOCAL, "127.0.0.1"),
        # A client-supplied entry left of the real one is never believed (rightmost wins).
        ("127.0.0.1", ["6.6.6.6, 198.51.100.1"], LOCAL, "198.51.100.1"),
        ("127.0.0.1", ["6.6.6.6", "198.51.100.1"], LOCAL, "198.51.100.1"),
        # Chains of trusted proxies are skipped from the right.
        ("127.0.0.1", ["198.51.100.1, 10.1.2.3"], TWO, "198.51.100.1"),
        ("127.0.0.1", ["6.6.6.6, 198.51.100.1, 10.1.2.3"], TWO, "198.51.100.1"),
        # Every hop trusted: the leftmost one.
        ("127.0.0.1", ["10.9.9.9, 10.1.2.3"], TWO, "10.9.9.9"),
        # Garbage stops the walk at the last proxy reached (never a client's free text).
        ("127.0.0.1", ["198.51.100.1, not-an-ip"], LOCAL, "127.0.0.1"),
        ("127.0.0.1", ["198.51.100.1, unknown, 10.1.2.3"], TWO, "10.1.2.3"),
        ("127.0.0.1", ["  , 198.51.100.1 ,"], LOCAL, "198.51.100.1"),
        # A dual-stack socket reports IPv4 peers as mapped addresses.
        ("::ffff:127.0.0.1", ["198.51.100.1"], LOCAL, "198.51.100.1"),
        ("127.0.0.1", ["::ffff:198.51.100.1"], LOCAL, "198.51.100.1"),
        # Unknown peer (a Unix socket, a test transport): nothing to log.
        (None, ["198.51.100.1"], LOCAL, ""),
        ("", [], LOCAL, ""),
    ],
)
def test_client_address(
    peer: str | None, xff: list[str], trusted: tuple[object, ...], expected: str
) -> None:
    assert client_address(peer, xff, trusted) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["10.0.0.1/8", "not-a-net", "300.1.1.1/32", ""])
def test_trusted_proxies_must_be_networks(bad: str) -> None:
    with pytest.raises(ValueError, match="CIDR"):
        parse_networks([bad])


def test_bare_address_is_a_single_host() -> None:
    assert [str(n) for n in parse_networks(["127.0.0.1", "::1"])] == ["127.0.0.1/32", "::1/128"]
