"""Mail as one feature: the queue's wake-up and the worker that sends it."""

from __future__ import annotations

import asyncio

from aiohttp import web

from node.mail.queue import MailQueued
from node.mail.worker import MAIL_WAKE, MailWorker
from node.runtime import appkeys


def setup(app: web.Application) -> None:
    wake = app[MAIL_WAKE] = asyncio.Event()
    app[appkeys.DATABASE].events.subscribe(MailQueued, lambda _event: wake.set())
    app[appkeys.BACKGROUND].add("mail", MailWorker(app).run)
