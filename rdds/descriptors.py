"""Composition root: file descriptors. Raise the soft limit to the hard one at start, split what
is left after a reserve between the two front-ends (so exhausting one never stops the other),
and collapse the event loop's repeated accept errors into one log line per second.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("rdds")

#: Descriptors kept for everything but client connections: listening sockets, the store's
#: connections, the disclosure log, log files, the web page's SMTP connection.
RESERVE = 64
#: Above this many descriptors no front-end needs more (the connection caps are lower).
CEILING = 1 << 20


def raise_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = CEILING if hard == resource.RLIM_INFINITY else hard
    if soft == resource.RLIM_INFINITY or soft >= target:
        return CEILING if soft == resource.RLIM_INFINITY else soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (OSError, ValueError):
        return soft  # not allowed here (a container's policy): keep what we have
    return target


def share(limit: int, fronts: int = 2, reserve: int = RESERVE) -> int:
    """Each front-end's connection cap under `limit` descriptors: an equal part of what the
    reserve leaves (the reserve shrinks to a quarter of a small limit)."""
    reserve = min(reserve, limit // 4)
    return max(1, (limit - reserve) // max(1, fronts))


#: asyncio's message when accept() fails for lack of descriptors or memory (EMFILE, ENFILE,
#: ENOBUFS, ENOMEM); it retries the socket a second later, once per listening socket.
ACCEPT_ERROR = "socket.accept() out of system resource"


class AcceptErrors:
    """A loop exception handler: accept errors for lack of resources are one warning line
    per `interval` seconds (with how many were folded into it); everything else goes to the
    loop's default handler."""

    def __init__(self, interval: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.clock = clock
        self._last = float("-inf")
        self._folded = 0

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") != ACCEPT_ERROR:
            loop.default_exception_handler(context)
            return
        now = self.clock()
        if now - self._last < self.interval:
            self._folded += 1
            return
        exc = context.get("exception")
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        more = f" ({self._folded} more since the last line)" if self._folded else ""
        log.warning("cannot accept a connection: %s%s", reason, more)
        self._last, self._folded = now, 0


def install(loop: asyncio.AbstractEventLoop) -> None:
    """Collapse repeated accept errors on `loop` (see `AcceptErrors`)."""
    loop.set_exception_handler(AcceptErrors())
