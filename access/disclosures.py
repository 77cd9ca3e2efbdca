"""The disclosure log on disk: append-only JSON lines, hash-chained, fsynced before an
answer leaves (I/O; the record format and the chain live in `access.chain`).

Files in the data directory: `disclosures.jsonl` (the records), `disclosures.anchor` (count
and head hash, replaced atomically after every append) and `disclosures.lock` (an advisory
lock serialising writers, so two server processes on one directory cannot fork the chain).
Within a process an asyncio.Lock serialises appends and the blocking write runs in a thread.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from access import chain
from access.credentials import locked, write_atomic
from registry.errors import Unavailable

LOG = "disclosures.jsonl"
ANCHOR = "disclosures.anchor"
LOCK = "disclosures.lock"
_TAIL_CHUNK = 64 * 1024

log = logging.getLogger("rdds.access")


class BrokenLog(Exception):
    """The log's tail cannot be continued (torn or edited last line)."""


def read_tail(path: Path) -> tuple[int, str, int]:
    """(count, head hash, file size) from the last record; (0, GENESIS, 0) when empty."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return 0, chain.GENESIS, 0
    try:
        size = os.fstat(fd).st_size
        if size == 0:
            return 0, chain.GENESIS, 0
        buf = b""
        pos = size
        while True:
            step = min(_TAIL_CHUNK, pos)
            pos -= step
            buf = os.pread(fd, step, pos) + buf
            if not buf.endswith(b"\n"):
                raise BrokenLog("the last record is torn (no newline)")
            nl = buf.rfind(b"\n", 0, len(buf) - 1)
            if nl >= 0 or pos == 0:
                last = buf[nl + 1 : -1]
                break
        record = chain.parse_line(last)
        if record is None or chain.record_hash(record) != record["hash"]:
            raise BrokenLog("the last record is not a valid record")
        return int(record["seq"]), str(record["hash"]), size
    finally:
        os.close(fd)


class DisclosureLog:
    """Appends disclosure records; every append is on disk before `append` returns."""

    def __init__(
        self, data_dir: Path, clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    ) -> None:
        self.path = data_dir / LOG
        self.anchor_path = data_dir / ANCHOR
        self._lock_path = data_dir / LOCK
        self._clock = clock
        self._lock = asyncio.Lock()
        #: (count, head, size) after our last append; re-read when the file grew elsewhere.
        self._tail: tuple[int, str, int] | None = None

    async def append(self, disclosure: chain.Disclosure) -> dict[str, Any]:
        """Chain and write one record (fsync), then the anchor; Unavailable when either fails.

        Security: fail closed. The caller sends nothing withheld unless this returns.
        """
        async with self._lock:
            try:
                return await asyncio.to_thread(self._append, disclosure)
            except BrokenLog as exc:
                log.error("disclosure log %s cannot be continued: %s", self.path, exc)
            except OSError as exc:
                log.error("disclosure log %s: cannot write: %s", self.path, exc.strerror or exc)
            self._tail = None  # whatever happened, re-read the file before the next append
            raise Unavailable("The disclosure log cannot be written; nothing was disclosed.")

    def stamp(self) -> dt.datetime:
        """The time for a new record (UTC)."""
        return self._clock()

    def _append(self, disclosure: chain.Disclosure) -> dict[str, Any]:
        with locked(self._lock_path):
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                size = os.fstat(fd).st_size
                if self._tail is None or self._tail[2] != size:
                    self._tail = read_tail(self.path)  # first append, or another writer
                count, head, _ = self._tail
                record = chain.make_record(disclosure, count + 1, head)
                data = chain.line(record)
                written = os.write(fd, data)
                if written != len(data):
                    raise OSError("short write")
                os.fsync(fd)
            finally:
                os.close(fd)
            self._tail = (count + 1, record["hash"], size + len(data))
            write_atomic(
                self.anchor_path, chain.anchor_bytes(chain.Anchor(count + 1, record["hash"]))
            )
            return record


# --- reading back (the audit commands) -------------------------------------------------------


def lines(path: Path) -> Iterator[bytes]:
    """The log's lines without newlines (a torn last line comes back as it is)."""
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return
    with f:
        for raw in f:
            yield raw[:-1] if raw.endswith(b"\n") else raw + b"\x00"  # mark a torn line


def anchor(path: Path) -> chain.Anchor | None:
    """The anchor, or None when absent or unreadable."""
    try:
        return chain.parse_anchor(path.read_bytes())
    except FileNotFoundError:
        return None


def verify(data_dir: Path) -> chain.Verdict:
    """Verify the log in a data directory against its anchor."""
    return chain.verify(lines(data_dir / LOG), anchor(data_dir / ANCHOR))


def records(data_dir: Path) -> Iterator[dict[str, Any]]:
    """Every well-formed record, in file order (verify first to trust them)."""
    for raw in lines(data_dir / LOG):
        record = chain.parse_line(raw)
        if record is not None:
            yield record
