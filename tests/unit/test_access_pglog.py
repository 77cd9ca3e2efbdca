"""The shared log's tail check (pure): a node continues the chain only where the head vouches
for the newest record."""

from __future__ import annotations

import datetime as dt

import pytest

from access import chain
from access.pglog import BrokenLog, check_tail

T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def record(seq: int, prev: str) -> dict[str, object]:
    d = chain.Disclosure(
        T0,
        "cred-1",
        "Example Police",
        "law-enforcement",
        None,
        None,
        f"domain/d{seq}.org",
        ("Registrant Name",),
        "ab" * 32,
    )
    return chain.make_record(d, seq, prev)


FIRST = record(1, chain.GENESIS)
SECOND = record(2, str(FIRST["hash"]))
TEXT = chain.canonical(SECOND).decode()
EDITED = TEXT.replace("Example Police", "Example Polite")


@pytest.mark.parametrize(
    ("count", "head", "last", "top"),
    [
        (0, chain.GENESIS, None, None),
        (2, SECOND["hash"], TEXT, 2),
    ],
)
def test_an_intact_tail_is_continued(
    count: int, head: str, last: str | None, top: int | None
) -> None:
    check_tail(count, head, last, top)


@pytest.mark.parametrize(
    ("count", "head", "last", "top", "words"),
    [
        (0, "f" * 64, None, None, "not the genesis hash"),
        (0, chain.GENESIS, None, 3, "newest record is 3, its head counts 0"),  # head reset
        (2, SECOND["hash"], TEXT, 3, "newest record is 3, its head counts 2"),  # beyond
        (3, "f" * 64, None, 2, "newest record is 2, its head counts 3"),  # truncated
        (2, SECOND["hash"], None, 2, "record 2 is missing"),  # renumbered
        (2, SECOND["hash"], EDITED, 2, "record 2 is missing or not a valid record"),
        (2, FIRST["hash"], TEXT, 2, "record 2 does not match the head"),
        (1, SECOND["hash"], TEXT, 1, "record 1 is missing or not a valid record"),  # wrong seq
    ],
)
def test_a_damaged_tail_is_never_continued(
    count: int, head: str, last: str | None, top: int | None, words: str
) -> None:
    with pytest.raises(BrokenLog, match=words):
        check_tail(count, head, last, top)
