"""The disclosure log on disk: append-only JSON lines, hash-chained, fsynced before an
answer leaves (I/O; the record format and the chain live in `access.chain`).

Files in the data directory: `disclosures.jsonl` (the records), `disclosures.anchor` (count
and head hash, written when the directory is set up and replaced atomically after every
append) and `disclosures.lock` (an advisory lock serialising writers, so two server processes
on one directory cannot fork the chain). Within a process an asyncio.Lock serialises appends
and the blocking write runs in a thread. A log that no longer matches its anchor (deleted,
truncated, or the anchor gone) is never continued: appending would hide the damage.
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
from access.credentials import FILE as CREDENTIALS
from access.credentials import ensure_dir, locked, write_atomic
from registry.errors import ConfigError, Unavailable

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


def set_up(data_dir: Path) -> None:
    """Create the data directory if needed; in a fresh one (no log, no anchor, no credential
    store) start the chain by writing the genesis anchor (count 0).

    From then on the anchor's absence is evidence of deletion (`verify` fails on it). A
    directory holding credentials or records but no anchor is left as it is: that is the
    evidence. ConfigError when the directory cannot be created or the anchor written.
    """
    ensure_dir(data_dir)
    paths = (data_dir / LOG, data_dir / ANCHOR, data_dir / CREDENTIALS)
    try:
        with locked(data_dir / LOCK):
            if not any(p.exists() for p in paths):
                write_atomic(data_dir / ANCHOR, chain.anchor_bytes(chain.Anchor(0, chain.GENESIS)))
    except OSError as exc:
        raise ConfigError(f"{data_dir}: cannot start the disclosure log: {exc.strerror}") from None


def missing_anchor(data_dir: Path) -> bool:
    """True when the directory holds credentials or records but no anchor (see `set_up`)."""
    if (data_dir / ANCHOR).exists():
        return False
    return (data_dir / LOG).exists() or (data_dir / CREDENTIALS).exists()


def _continuable(tail: tuple[int, str, int], anchor: chain.Anchor | None) -> None:
    """BrokenLog unless the log's tail is the one its anchor vouches for (or one past it)."""
    count, head, _ = tail
    if anchor is None:
        raise BrokenLog("the anchor is missing or unreadable (deleted?)")
    if count < anchor.count:
        raise BrokenLog(f"the log ends at record {count}, the anchor counts {anchor.count}")
    if count == anchor.count and head != anchor.head:
        raise BrokenLog("the newest record does not match the anchor")
    if count - anchor.count > chain.MAX_BEYOND_ANCHOR:
        raise BrokenLog(f"the anchor counts {anchor.count} of {count} records (replaced?)")


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
                    # First append, another writer, or someone else: check before continuing.
                    tail = read_tail(self.path)
                    _continuable(tail, anchor(self.anchor_path))
                    self._tail = tail
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
    """The anchor, or None when absent or not well formed (OSError when unreadable)."""
    try:
        return chain.parse_anchor(path.read_bytes())
    except FileNotFoundError:
        return None


def verify(data_dir: Path, expect_head: str | None = None) -> chain.Verdict:
    """Verify the log in a data directory against its anchor (and a head noted earlier)."""
    verdict = chain.verify(lines(data_dir / LOG), anchor(data_dir / ANCHOR), expect_head)
    no_anchor = not (data_dir / ANCHOR).exists()
    if verdict.count == 0 and no_anchor and (data_dir / CREDENTIALS).exists():
        what = (
            "the disclosure log and its anchor are missing, but credentials were issued "
            "here: both were deleted"
        )
        return chain.Verdict(0, chain.GENESIS, chain.Problem(0, what))
    return verdict


def records(data_dir: Path) -> Iterator[dict[str, Any]]:
    """Every well-formed record, in file order (verify first to trust them)."""
    for raw in lines(data_dir / LOG):
        record = chain.parse_line(raw)
        if record is not None:
            yield record
