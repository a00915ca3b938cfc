"""The worker that queues mail to residents about their notices and reminds them of
requests left unanswered (see :mod:`._notifications`); the mail worker
(``node.mail``) sends it.

It looks when a notice asks for mail (``MailPending``, after the inbox's commit)
and every ``worker_poll_seconds`` regardless: a summary held back by the hourly
limit goes out at the first look after the hour. Reminders are a matter of days,
so it looks for them every ``REMIND_EVERY_SECONDS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from aiohttp import web

from node.contacts._notifications import queue_pending, remind_waiting
from node.runtime import appkeys
from node.runtime.mail import Mailer

log = logging.getLogger(__name__)

NOTIFY_WAKE = web.AppKey("notifications_wake", asyncio.Event)
REMIND_EVERY_SECONDS = 300.0


class NotificationWorker:
    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.next_reminders = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        interval = self.app[appkeys.CONFIG].federation.worker_poll_seconds
        woken = self.app[NOTIFY_WAKE]
        while not stop.is_set():
            mailer = self.app.get(appkeys.MAILER)
            if mailer is not None:
                try:
                    await self.round(mailer)
                except Exception:
                    log.exception("notifications failed; will try again")
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(woken.wait())]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait(waiters, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
            woken.clear()

    async def round(self, mailer: Mailer) -> None:
        db = self.app[appkeys.DATABASE]
        # one batch per transaction, until a batch comes back empty
        while await queue_pending(db, mailer) > 0:
            continue
        if time.monotonic() >= self.next_reminders:
            self.next_reminders = time.monotonic() + REMIND_EVERY_SECONDS
            while await remind_waiting(db, mailer) > 0:
                continue
