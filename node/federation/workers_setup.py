"""Background workers of a node: delivery of the outbox, re-applying the inbox.

They run inside ``zwilling run`` and alone in ``zwilling worker``; their lifetime
is the application's (``cleanup_ctx``): started with it, stopped cleanly with it,
leaving unsent rows queued in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from node.federation import delivery_worker as delivery
from node.federation import inbox_worker as inbox_retry

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 5.0


async def _workers(app: web.Application) -> AsyncIterator[None]:
    stop = asyncio.Event()
    wake_event = app[delivery.WAKE]
    worker = delivery.DeliveryWorker(app)
    tasks = [
        asyncio.create_task(worker.run(stop, wake_event), name="delivery"),
        asyncio.create_task(inbox_retry.run(app, stop), name="inbox-retry"),
    ]
    log.info("workers started", extra={"worker": worker.name})
    yield
    stop.set()
    worker.stopping = True
    _, pending = await asyncio.wait(tasks, timeout=STOP_GRACE_SECONDS)
    for task in pending:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


def setup(app: web.Application) -> None:
    app[delivery.WAKE] = asyncio.Event()
    app.cleanup_ctx.append(_workers)
