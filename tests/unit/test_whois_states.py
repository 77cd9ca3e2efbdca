"""The port-43 connection state machine: one transition table, illegal moves raise."""

from __future__ import annotations

import itertools
import logging

import pytest

from core.lookup import Lookup
from tests.whois_support import TEST_SETTINGS, lookup, replica_path
from whois43 import server as ws
from whois43.server import ConnectionState as S
from whois43.server import Event as E

__all__ = ["lookup", "replica_path"]

#: Every legal move, written out independently of the product table.
LEGAL: dict[tuple[S, E], S] = {
    (S.READING, E.LINE): S.ANSWERING,
    (S.READING, E.SENT): S.LINGERING,
    (S.READING, E.SENT_CLOSED): S.CLOSED,
    (S.ANSWERING, E.SENT): S.LINGERING,
    (S.ANSWERING, E.SENT_CLOSED): S.CLOSED,
    (S.LINGERING, E.LINGER_END): S.CLOSED,
    (S.READING, E.ABORT): S.CLOSED,
    (S.ANSWERING, E.ABORT): S.CLOSED,
    (S.LINGERING, E.ABORT): S.CLOSED,
    (S.CLOSED, E.ABORT): S.CLOSED,
    (S.READING, E.LOST): S.CLOSED,
    (S.ANSWERING, E.LOST): S.CLOSED,
    (S.LINGERING, E.LOST): S.CLOSED,
    (S.CLOSED, E.LOST): S.CLOSED,
}


@pytest.mark.parametrize(("state", "event"), list(itertools.product(S, E)))
def test_every_pair_is_legal_as_listed_or_raises(state: S, event: E) -> None:
    if (state, event) in LEGAL:
        assert ws.transition(state, event) is LEGAL[state, event]
    else:
        with pytest.raises(ws.IllegalTransition):
            ws.transition(state, event)


def test_the_table_is_exactly_the_listed_moves() -> None:
    assert dict(ws.TRANSITIONS) == LEGAL


def test_nothing_leaves_closed_and_nothing_returns_to_reading() -> None:
    assert all(nxt is S.CLOSED for (state, _), nxt in LEGAL.items() if state is S.CLOSED)
    assert S.READING not in LEGAL.values()


def test_state_values_are_the_documented_words() -> None:
    assert [s.value for s in S] == ["reading", "answering", "lingering", "closed"]


async def test_a_connection_refuses_an_illegal_move_loudly(
    lookup: Lookup, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a connection object of a real (not listening) responder
    conn = ws.WhoisConnection(ws.WhoisServer(lookup, TEST_SETTINGS))
    assert conn.state is S.READING
    conn._advance(E.LINE)
    assert conn.state is S.ANSWERING
    # WHEN a second line arrives in ANSWERING THEN it raises and logs, and the state stays
    with caplog.at_level(logging.ERROR, logger="rdds.whois"), pytest.raises(ws.IllegalTransition):
        conn._advance(E.LINE)
    assert conn.state is S.ANSWERING
    assert "illegal state transition" in caplog.text
