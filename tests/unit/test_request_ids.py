"""Request ids: 16 hex digits, random, never repeated, not shared with a forked worker."""

from __future__ import annotations

import multiprocessing
import re

from core import logs


def test_ids_are_sixteen_hex_digits_and_distinct() -> None:
    ids = [logs.request_id() for _ in range(3000)]  # more than one draw ahead
    assert all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids)
    assert len(set(ids)) == len(ids)


def _child_ids(conn: multiprocessing.connection.Connection) -> None:
    conn.send([logs.request_id() for _ in range(10)])
    conn.close()


def test_a_forked_worker_does_not_repeat_the_parents_ids() -> None:
    # GIVEN a parent that has ids drawn ahead (as a supervisor might before forking)
    logs.request_id()
    # WHEN a worker is forked and both take their next ids
    ctx = multiprocessing.get_context("fork")
    parent_end, child_end = ctx.Pipe()
    proc = ctx.Process(target=_child_ids, args=(child_end,))
    proc.start()
    child = parent_end.recv()
    proc.join(10)
    mine = [logs.request_id() for _ in range(10)]
    # THEN they share none
    assert proc.exitcode == 0
    assert not set(child) & set(mine)
