"""The replica watcher: polls the replica generation once for the whole process and tells
every subscriber (each front-end's answer cache) when it changes. Started by the
composition root, so a WHOIS-only process sees new generations too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from core.lookup import Lookup
from registry.errors import RddsError

log = logging.getLogger("rdds.replica")


class ReplicaWatcher:
    """Checks for a new replica generation every `every` seconds while running."""

    def __init__(self, lookup: Lookup, every: float) -> None:
        self._lookup = lookup
        self._every = every
        self._subscribers: list[Callable[[int], None]] = []
        self._observers: list[Callable[[bool], None]] = []
        self._task: asyncio.Task[None] | None = None
        self._woken = asyncio.Event()

    def subscribe(self, callback: Callable[[int], None]) -> None:
        """Call `callback(generation)` after each change of generation."""
        self._subscribers.append(callback)

    def observe(self, callback: Callable[[bool], None]) -> None:
        """Call `callback(ok)` after every check, successful (True) or not (health, metrics)."""
        self._observers.append(callback)

    async def check(self) -> bool:
        """One check: refresh the replica and notify subscribers; True when it changed."""
        try:
            changed = await self._lookup.refresh()
        except RddsError as exc:
            log.warning("replica refresh failed: %s", type(exc).__name__)
            self._tell(False)
            return False
        self._tell(True)
        if changed:
            generation = self._lookup.generation
            log.info("replica generation %d", generation)
            for callback in self._subscribers:
                callback(generation)
        return changed

    def _tell(self, ok: bool) -> None:
        """Every observer hears of the check; one that fails is logged (its kind only) and
        neither stops the others nor ends the polling loop, which would freeze the replica."""
        for observer in self._observers:
            try:
                observer(ok)
            except Exception as exc:
                log.error("replica check observer failed: %s", type(exc).__name__)

    def start(self) -> None:
        """Start polling in the background (idempotent)."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Stop polling and wait for the loop to end."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def wake(self) -> None:
        """Check now rather than at the next poll (a store heard of a new generation)."""
        self._woken.set()

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), self._every)
            self._woken.clear()
            await self.check()
