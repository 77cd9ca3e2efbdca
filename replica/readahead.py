"""Read a replica's stored answers ahead, once, so that the OS page cache holds them.

A crawler asks for names nobody asked for before, so every stored-answer read of a freshly
started server (or of one whose pages the OS has reclaimed) would wait for the disk: on
this project's 1,000,000-domain replica a first-time read costs about 100 µs and 6.4 kB read
from the disk, against 10 µs once its pages are cached. `ReadAhead` reads the stored answers'
table and its name index from start to end on a thread of its own, with a connection of its
own (lookups never wait for it), as `pg_prewarm` does for PostgreSQL or
`index.store.preload` for Elasticsearch. SQLite does the whole walk inside one call, so the
thread barely holds the GIL.

It reads nothing from a file without an answer table, and is skipped with one line in the
log when the replica file is larger than half the memory the OS reports available (the
answers would only push out other pages). The OS may still reclaim the pages later; reads
of those go to the disk again, as they would without this.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("rdds")


def memory_available() -> int | None:
    """Bytes of memory the OS reports available (Linux `MemAvailable`), None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one read-ahead did: `answers` read (None when it read nothing) and why not."""

    answers: int | None
    seconds: float
    reason: str = ""


class ReadAhead:
    """One read-ahead of `path`'s stored answers on a daemon thread (`start`, `stop`)."""

    def __init__(self, path: Path, available: Callable[[], int | None] = memory_available) -> None:
        self.path = path
        self._available = available
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._stopping = False
        #: Set once the thread has ended, with `outcome` filled in.
        self.done = threading.Event()
        self.outcome: Outcome | None = None

    def start(self) -> None:
        """Start reading (once)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="rdds-replica-readahead", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Interrupt a read under way and wait (at most `timeout` s) for the thread to end."""
        with self._lock:
            self._stopping = True
            if self._conn is not None:
                self._conn.interrupt()  # the one sqlite3 call meant for another thread
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        start = time.monotonic()
        try:
            self.outcome = self._read(start)
        except (sqlite3.Error, OSError) as exc:  # OSError: the file went away meanwhile
            if self._stopping:
                self.outcome = Outcome(None, time.monotonic() - start, "stopped")
            else:
                self.outcome = Outcome(None, time.monotonic() - start, f"failed: {exc}")
                log.warning(
                    "replica: reading the stored answers ahead failed (%s); lookups read "
                    "them from the disk as they are asked for",
                    exc,
                )
        finally:
            with self._lock:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None
            self.done.set()

    def _read(self, start: float) -> Outcome:
        size = os.stat(self.path).st_size
        available = self._available()
        if available is not None and size > available // 2:
            reason = (
                f"the replica ({size / 2**20:,.0f} MiB) is larger than half the memory "
                f"available ({available / 2**20:,.0f} MiB)"
            )
            log.info("replica: stored answers not read ahead: %s", reason)
            return Outcome(None, time.monotonic() - start, reason)
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        with self._lock:
            if self._stopping:
                return Outcome(None, 0.0, "stopped")
            # check_same_thread=False only so that `stop` may interrupt it from another thread.
            self._conn = conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        conn.execute("PRAGMA query_only = ON")
        found = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'answer'"
        ).fetchone()
        if found is None:
            return Outcome(None, time.monotonic() - start, "no stored answers")
        # count(*) walks every page of the smallest b-tree holding every row, the name index;
        # the sums walk every leaf of the table itself (length() of a blob needs only the
        # row's header, so the rare answer too big for its page leaves its overflow unread).
        count = int(self._one(conn, "SELECT count(*) FROM answer"))
        self._one(conn, "SELECT sum(length(rdap)) + sum(length(whois)) FROM answer")
        seconds = time.monotonic() - start
        log.info(
            "replica: %d stored answers read ahead into the OS page cache in %.1f s",
            count,
            seconds,
        )
        return Outcome(count, seconds)

    def _one(self, conn: sqlite3.Connection, sql: str) -> Any:
        """One statement's one value, unless stopped meanwhile (an interrupt that comes
        between two statements is lost: SQLite interrupts only a statement that runs)."""
        if self._stopping:
            raise sqlite3.OperationalError("interrupted")
        return conn.execute(sql).fetchone()[0]
