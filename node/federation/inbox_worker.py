"""Re-applies stored inbox activities whose handler failed, with backoff.

An activity is acknowledged once stored; if its handler failed then (a bug, a
database hiccup, or an activity that depends on one not yet arrived), the row
stays pending with its next try, and this worker calls the handler again until
it succeeds or the row has been retried for ``delivery_max_age_hours``. Rows are
locked with ``SKIP LOCKED``, so several workers on PostgreSQL never apply one
row at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from node.federation import _received as repo
from node.federation.inbox import retry_row
from node.models import utcnow
from node.runtime import appkeys

log = logging.getLogger(__name__)

BATCH = 50


async def retry_due(app: web.Application, *, limit: int = BATCH) -> int:
    """Try every due pending row once; the number of rows tried."""
    async with app[appkeys.DATABASE].read() as session:
        due = await repo.due_ids(session, utcnow(), limit)
    tried = 0
    for row_id in due:
        if await retry_row(app, row_id) is not None:
            tried += 1
    return tried


class InboxRetryWorker:
    """Polls for due pending rows every ``worker_poll_seconds``."""

    def __init__(self, app: web.Application) -> None:
        self.app = app

    async def run(self, stop: asyncio.Event) -> None:
        poll = self.app[appkeys.CONFIG].federation.worker_poll_seconds
        while not stop.is_set():
            try:
                tried = await retry_due(self.app)
            except Exception:
                log.exception("inbox retry round failed; retrying")
                tried = 0
            if tried >= BATCH:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll)
