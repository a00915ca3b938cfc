"""Waiting for a node's mail queue: pages only queue mail, the mail worker sends it."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from node.mail.worker import MailWorker
from node.models import QueuedMail, utcnow
from node.runtime import appkeys
from tests.lib.support.nodes import RunningNode

SETTLE_LIMIT_SECONDS = 15.0
POLL_SECONDS = 0.02


async def open_mails(node: RunningNode) -> int:
    """Rows the worker should be sending now (due or in flight)."""
    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as uow:
        count = await uow.scalar(
            select(func.count())
            .select_from(QueuedMail)
            .where(QueuedMail.state.in_(("pending", "sending")), QueuedMail.next_try_at <= utcnow())
        )
    return count or 0


async def mail_settled(node: RunningNode) -> None:
    """Return once every due mail of the node was handed to its mail backend.

    The node's own mail worker does the sending: here for a node started without
    background workers, in the background otherwise (then this waits, bounded, for
    what the background worker holds)."""
    app = node.app
    if app is None:
        return
    mailer = app.get(appkeys.MAILER)
    if mailer is not None:
        worker = MailWorker(app)
        while await worker.round(mailer) > 0:
            continue
    if app[appkeys.BACKGROUND].lifetime not in app.cleanup_ctx:
        return
    for _ in range(int(SETTLE_LIMIT_SECONDS / POLL_SECONDS)):
        if not await open_mails(node):
            return
        await asyncio.sleep(POLL_SECONDS)
