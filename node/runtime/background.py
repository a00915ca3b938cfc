"""Every background worker of a node runs through :class:`BackgroundWork`.

A worker is a coroutine function ``run(stop)`` that loops until ``stop`` is set.
Started with the application (``cleanup_ctx``) and stopped with it: ``stop`` is
set, the workers get ``STOP_GRACE_SECONDS`` to finish what they hold, then they
are cancelled. A worker that crashes is logged and started again after a backoff
(doubling up to ``RESTART_MAX_SECONDS``), so one bad row cannot end delivery for
the life of the process. Unfinished work stays in the database either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 5.0
RESTART_BASE_SECONDS = 1.0
RESTART_MAX_SECONDS = 300.0

Worker = Callable[[asyncio.Event], Awaitable[None]]


@dataclass(frozen=True)
class _Entry:
    name: str
    run: Worker


class BackgroundWork:
    """The workers of one application, and their common lifetime."""

    def __init__(self, *, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
        self.grace_seconds = grace_seconds
        self._entries: list[_Entry] = []

    def add(self, name: str, run: Worker) -> None:
        """Run ``run(stop)`` while the application runs; call while building it."""
        self._entries.append(_Entry(name, run))

    def names(self) -> list[str]:
        return [entry.name for entry in self._entries]

    async def lifetime(self, _app: object = None) -> AsyncIterator[None]:
        """A ``cleanup_ctx`` entry: start every worker, stop them all on cleanup."""
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(_supervise(entry, stop), name=entry.name) for entry in self._entries
        ]
        if tasks:
            log.info("workers started", extra={"workers": self.names()})
        try:
            yield
        finally:
            stop.set()
            if tasks:
                _, pending = await asyncio.wait(tasks, timeout=self.grace_seconds)
                for task in pending:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError):
                        await task


async def _supervise(entry: _Entry, stop: asyncio.Event) -> None:
    delay = RESTART_BASE_SECONDS
    while not stop.is_set():
        try:
            await entry.run(stop)
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception(
                "worker crashed; restarting", extra={"worker": entry.name, "in_seconds": delay}
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
        delay = min(delay * 2, RESTART_MAX_SECONDS)
