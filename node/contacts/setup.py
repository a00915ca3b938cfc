"""Contacts as one feature: the inbox handlers of the consent, reveal, message and
report activities, and the worker that mails residents about their notices (new
requests, acceptances, messages) and reminds them of unanswered requests.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from node.contacts import handlers
from node.contacts.notices import MailPending
from node.contacts.notification_worker import NOTIFY_WAKE, NotificationWorker
from node.runtime import appkeys


def setup(app: web.Application) -> None:
    handlers.register(app)
    wake = app[NOTIFY_WAKE] = asyncio.Event()
    app[appkeys.DATABASE].events.subscribe(MailPending, lambda _event: wake.set())
    app[appkeys.BACKGROUND].add("notifications", NotificationWorker(app).run)
