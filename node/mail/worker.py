"""The mail worker: sends queued mails, retrying with backoff when the server fails.

Each round claims due rows under a lease (see ``_claims``), sends them one after
the other outside any transaction and settles each: ``sent``, or back to
``pending`` after an exponential backoff with jitter, or ``failed`` after the
``[mail]`` section's ``give_up_after_tries`` tries or ``give_up_after_hours``. It
looks when a committed unit of work queued mail (``MailQueued``) and every
``worker_poll_seconds`` regardless. Without a mailer (a node running without the
web interface) the rows wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from aiohttp import web

from federation.delivery import backoff_seconds, expired
from node.federation.delivery_worker import worker_name
from node.mail import _claims
from node.mail.queue import as_mail
from node.models import utcnow
from node.runtime import appkeys
from node.runtime.mail import Mailer

log = logging.getLogger(__name__)

MAIL_WAKE = web.AppKey("mail_wake", asyncio.Event)

BATCH = 20
LEASE = timedelta(minutes=5)


class MailWorker:
    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.name = worker_name()

    async def run(self, stop: asyncio.Event) -> None:
        interval = self.app[appkeys.CONFIG].federation.worker_poll_seconds
        woken = self.app[MAIL_WAKE]
        while not stop.is_set():
            mailer = self.app.get(appkeys.MAILER)
            if mailer is not None:
                while not stop.is_set() and await self.round(mailer) > 0:
                    continue
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(woken.wait())]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait(waiters, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
            woken.clear()

    async def round(self, mailer: Mailer) -> int:
        """Claim, send and settle one batch; returns how many rows were claimed."""
        db = self.app[appkeys.DATABASE]
        async with db.write() as uow:
            rows = await _claims.claim(
                uow, now=utcnow(), lease=LEASE, worker=self.name, limit=BATCH
            )
            claimed = [(row.id, as_mail(row)) for row in rows]
        for row_id, mail in claimed:
            error: str | None = None
            try:
                await mailer.send(mail)
            except Exception as exc:
                # The exception's text may quote the address (a refused recipient):
                # its class and SMTP code say enough to an admin.
                code = getattr(exc, "smtp_code", None)
                error = f"{type(exc).__name__} {code}" if code else type(exc).__name__
                log.warning("mail not sent; will try again", extra={"error": error})
            await self._settle(row_id, error)
        return len(claimed)

    async def _settle(self, row_id: int, error: str | None) -> None:
        async with self.app[appkeys.DATABASE].write() as uow:
            row = await _claims.ours(uow, row_id, self.name)
            if row is None:
                return  # the lease ran out and another worker took it over
            now = utcnow()
            settings = self.app[appkeys.CONFIG].mail
            row.lease_until = None
            row.claimed_by = None
            if error is None:
                # Sent: the text has served its purpose (it may hold a one-time link);
                # the row stays, without it, until the retention purge.
                row.state = "sent"
                row.sent_at = now
                row.last_error = None
                row.subject = ""
                row.body = ""
                return
            row.tries += 1
            row.last_error = error[:200]
            if row.tries >= settings.give_up_after_tries or expired(
                row.created_at, now, timedelta(hours=settings.give_up_after_hours)
            ):
                row.state = "failed"
                log.error("mail given up", extra={"recipient_id": row.recipient_id})
                return
            row.state = "pending"
            delay = backoff_seconds(
                row.tries, base=settings.retry_first_seconds, cap=settings.retry_max_seconds
            )
            row.next_try_at = now + timedelta(seconds=delay)
