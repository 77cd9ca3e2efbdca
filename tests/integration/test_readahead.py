"""The stored answers read ahead at start (`replica.readahead`), against real SQLite files.

What is asserted is what the read-ahead did and says, never how long it took: that it
reads every stored answer on its own connection, skips a replica without stored answers or
one larger than half the memory available, stops when asked (also in the middle of its
read), says in one warning line when the file cannot be read, and that `rdds serve` starts
it unless `[server] read_ahead = false`.

Mutations tried, each failing a test here: `rdds serve` not starting it; starting it for
answers it will not serve; the size check inverted or not halved; `stop` not interrupting
(the stopped read then ends "read"); the error swallowed without the warning; the store's
`close` not stopping it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from rdds import config, service
from registry.errors import ConfigError
from replica.readahead import ReadAhead, memory_available
from replica.store import SqliteStore, open_store
from tests.integration.test_stored_answers import (
    answer_names,
    copy_without_answers,
    settings_for,
    stored_copy,
)


def stored(path: Path) -> int:
    return len(answer_names(path))


async def test_open_reads_every_stored_answer_ahead(
    answered: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rdds")
    store = await open_store(answered, pool_size=1)
    try:
        assert store.read_ahead is None  # only when asked for
        ahead = store.read_ahead_answers()
        assert store.read_ahead_answers() is ahead is store.read_ahead  # once
        assert store.read_ahead.done.wait(30)
        outcome = store.read_ahead.outcome
        assert outcome is not None and outcome.answers == stored(answered) >= 300
        assert outcome.reason == ""
        assert f"{outcome.answers} stored answers read ahead" in caplog.text
        # Lookups are unaffected: the store still answers on its own connections.
        assert await store.answer(sorted(answer_names(answered))[0], "rdap") is not None
    finally:
        await store.close()


async def test_a_replica_without_stored_answers_is_not_read(tmp_path: Path) -> None:
    ahead = ReadAhead(tmp_path / "no-table.sqlite")
    sqlite3.connect(ahead.path).close()
    ahead.start()
    assert ahead.done.wait(30)
    assert ahead.outcome is not None and ahead.outcome.answers is None
    assert ahead.outcome.reason == "no stored answers"


@pytest.mark.parametrize(
    ("available", "reads"),
    [
        (None, True),  # unknown (not Linux): read
        (2**40, True),
        (0, False),
        (1, False),
    ],
)
def test_too_big_for_the_memory_available_is_not_read(
    answered: Path, available: int | None, reads: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rdds")
    ahead = ReadAhead(answered, available=lambda: available)
    ahead.start()
    assert ahead.done.wait(30)
    assert ahead.outcome is not None
    if reads:
        assert ahead.outcome.answers == stored(answered)
    else:
        assert ahead.outcome.answers is None
        assert "larger than half the memory available" in ahead.outcome.reason
        assert "stored answers not read ahead: the replica" in caplog.text


def test_the_size_check_halves_the_memory(answered: Path) -> None:
    size = answered.stat().st_size
    for available, reads in ((2 * size, True), (2 * size - 2, False)):
        ahead = ReadAhead(answered, available=lambda a=available: a)  # type: ignore[misc]
        ahead.start()
        assert ahead.done.wait(30)
        assert ahead.outcome is not None
        assert (ahead.outcome.answers is not None) is reads


def test_memory_available_reads_the_os() -> None:
    found = memory_available()
    if Path("/proc/meminfo").exists():
        assert found is not None and found > 0
    else:
        assert found is None


def test_stopped_before_it_starts(answered: Path) -> None:
    ahead = ReadAhead(answered)
    ahead.stop()
    ahead.start()
    assert ahead.done.wait(30)
    assert ahead.outcome is not None and ahead.outcome.reason == "stopped"


async def test_closing_the_store_stops_it_in_the_middle_of_its_read(
    answered: Path, tmp_path: Path
) -> None:
    # A copy whose answer table is long enough that the walk is still going on at `close`.
    path = tmp_path / "long.sqlite"
    shutil.copyfile(answered, path)
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO answer WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
        "WHERE i < 3000000) SELECT 'n' || i || '.example', x'00', x'00' FROM n"
    )
    conn.commit()
    conn.close()
    store = await open_store(path, pool_size=1)
    ahead = store.read_ahead_answers()
    await asyncio.to_thread(_opened, ahead)
    await store.close()
    assert ahead.done.is_set()
    assert ahead.outcome is not None and ahead.outcome.reason == "stopped"
    assert ahead._conn is None  # closed


def test_an_unreadable_file_is_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "garbage.sqlite"
    path.write_bytes(b"not a database, " * 512)
    ahead = ReadAhead(path, available=lambda: None)
    ahead.start()
    assert ahead.done.wait(30)
    assert ahead.outcome is not None and ahead.outcome.answers is None
    assert ahead.outcome.reason.startswith("failed: ")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "reading the stored answers ahead failed" in warnings[0].getMessage()


def test_a_file_gone_is_one_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ahead = ReadAhead(tmp_path / "gone.sqlite", available=lambda: None)
    ahead.start()
    assert ahead.done.wait(30)
    assert ahead.outcome is not None and ahead.outcome.reason.startswith("failed: ")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage().split(" (")[0] for r in warnings] == [
        "replica: reading the stored answers ahead failed"
    ]


@pytest.mark.parametrize(
    ("text", "build", "reads"),
    [
        ("", True, True),
        ("[server]\nread_ahead = false\n", True, False),
        ("", False, False),  # no stored answers: nothing to read
    ],
)
async def test_serve_reads_usable_answers_ahead_unless_told_not_to(
    demo_replica: Path, tmp_path: Path, text: str, build: bool, reads: bool
) -> None:
    path, settings = stored_copy(demo_replica, tmp_path, build=build)
    if not build:
        copy_without_answers(demo_replica, path)
    read_ahead = config.parse(text).read_ahead
    running = await service.start(dataclasses.replace(settings, read_ahead=read_ahead))
    try:
        assert isinstance(running.store, SqliteStore)
        ahead = running.store.read_ahead
        if reads:
            assert ahead is not None and ahead.done.wait(30)
            assert ahead.outcome is not None and ahead.outcome.answers == stored(path)
        else:
            assert ahead is None
    finally:
        await running.close()
    if ahead is not None:
        assert ahead._conn is None  # closed with the store


async def test_answers_made_under_other_settings_are_not_read(
    demo_replica: Path, tmp_path: Path
) -> None:
    path, _ = stored_copy(demo_replica, tmp_path)
    other = settings_for('[rdap]\nbase_url = "https://elsewhere.test.example/"\n', path)
    running = await service.start(other)
    try:
        assert isinstance(running.store, SqliteStore)
        assert running.store.answers is not None  # stored, but not usable here
        assert running.store.read_ahead is None
    finally:
        await running.close()


def test_a_bad_value_is_one_line() -> None:
    with pytest.raises(ConfigError, match=r"server\.read_ahead: expected true or false"):
        config.parse('[server]\nread_ahead = "yes"\n')


def _opened(ahead: ReadAhead) -> None:
    """Wait until the read-ahead's connection is open (its walk is starting)."""
    deadline = time.monotonic() + 30
    while ahead._conn is None and not ahead.done.is_set() and time.monotonic() < deadline:
        time.sleep(0.001)
