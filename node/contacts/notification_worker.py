"""The worker that queues mail to residents about new messages (see
:mod:`._notifications`); the mail worker (``node.mail``) sends it.

It looks when a stored message asks for mail (``MailPending``, after the inbox's
commit) and every ``worker_poll_seconds`` regardless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from node.contacts._notifications import queue_pending
from node.runtime import appkeys

log = logging.getLogger(__name__)

NOTIFY_WAKE = web.AppKey("notifications_wake", asyncio.Event)


class NotificationWorker:
    def __init__(self, app: web.Application) -> None:
        self.app = app

    async def run(self, stop: asyncio.Event) -> None:
        interval = self.app[appkeys.CONFIG].federation.worker_poll_seconds
        woken = self.app[NOTIFY_WAKE]
        while not stop.is_set():
            mailer = self.app.get(appkeys.MAILER)
            if mailer is not None:
                try:
                    # one batch per transaction, until a batch comes back empty
                    while await queue_pending(self.app[appkeys.DATABASE], mailer) > 0:
                        continue
                except Exception:
                    log.exception("message notifications failed; will try again")
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(woken.wait())]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait(waiters, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
            woken.clear()
