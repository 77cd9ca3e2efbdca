"""Paging cursors: a cursor opens only for the search and requester it was sealed for, and
any change to it is refused (400)."""

from __future__ import annotations

import base64
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import cursor
from core.cursor import Binding, Position
from registry.errors import BadCursor

KEY = cursor.key_from_secret("test secret")
NOW = 1_800_000_000.0
BIND = Binding("domains?name=exam*.coop", "name:a", "anonymous", None)
POS = Position(("example1.coop", "example1.coop"), 2, 7, int(NOW) + 3600)


def sealed(position: Position = POS, binding: Binding = BIND) -> str:
    return cursor.seal(position, binding, KEY, os.urandom)


def test_round_trip() -> None:
    assert cursor.open_(sealed(), BIND, KEY, NOW) == POS


def test_token_is_opaque_and_url_safe() -> None:
    token = sealed()
    assert "example1" not in token
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_same_position_gives_different_tokens() -> None:
    # A fresh nonce each time: equal positions cannot be recognised across answers.
    assert sealed() != sealed()


OTHER_BINDINGS = [
    Binding("domains?name=exam*.org", "name:a", "anonymous", None),  # another pattern
    Binding("domains?name=exam*.coop", "name:d", "anonymous", None),  # another order
    Binding("domains?name=exam*.coop", "name:a", "law-enforcement", None),  # another tier
    Binding("domains?name=exam*.coop", "name:a", "anonymous", "legalActions"),  # purpose
]


@pytest.mark.parametrize("binding", OTHER_BINDINGS)
def test_cursor_is_bound_to_its_search_and_requester(binding: Binding) -> None:
    with pytest.raises(BadCursor):
        cursor.open_(sealed(), binding, KEY, NOW)


def test_cursor_of_an_authorized_requester_does_not_open_for_the_public() -> None:
    staff = Binding(BIND.query, BIND.sort, "registry-staff", "legalActions")
    token = sealed(binding=staff)
    assert cursor.open_(token, staff, KEY, NOW) == POS
    with pytest.raises(BadCursor):
        cursor.open_(token, BIND, KEY, NOW)


def test_other_key_refused() -> None:
    with pytest.raises(BadCursor):
        cursor.open_(sealed(), BIND, cursor.key_from_secret("another secret"), NOW)


def test_expired_cursor_refused() -> None:
    with pytest.raises(BadCursor) as info:
        cursor.open_(sealed(), BIND, KEY, NOW + 3601)
    assert "expired" in info.value.message
    assert info.value.status == 400


MALFORMED = ["", "1", "2AAAA", "1!!!!", "1" + "A" * 10, "1" + "A" * 3000, "x" * 10, "1====", "1A"]


@pytest.mark.parametrize("token", MALFORMED)
def test_malformed_tokens_refused(token: str) -> None:
    with pytest.raises(BadCursor):
        cursor.open_(token, BIND, KEY, NOW)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=10_000), st.integers(min_value=0, max_value=7))
def test_any_flipped_bit_is_refused(index: int, bit: int) -> None:
    token = sealed()
    body = token[1:]
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    i = index % len(raw)
    raw[i] ^= 1 << bit
    forged = "1" + base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    with pytest.raises(BadCursor):
        cursor.open_(forged, BIND, KEY, NOW)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_opens(token: str) -> None:
    with pytest.raises(BadCursor):
        cursor.open_(token, BIND, KEY, NOW)


def test_truncated_token_refused() -> None:
    token = sealed()
    for cut in range(1, len(token)):
        with pytest.raises(BadCursor):
            cursor.open_(token[:cut], BIND, KEY, NOW)
