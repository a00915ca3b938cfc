"""The node's side of the protocol as one feature: discovery, the signed inbox and its
handler registry, delivery of the outbox, re-applying failed inbox rows, and key
rotation (this node's, and its peers' announced in their actor's ``Update``).
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from node.federation import discovery_endpoints, inbox
from node.federation.actor_handlers import ActorUpdates
from node.federation.appkeys import DELIVERY_WAKE
from node.federation.delivery_worker import DeliveryWorker
from node.federation.handlers import register_handler
from node.federation.inbox_worker import InboxRetryWorker
from node.federation.outbox import OutboxQueued
from node.runtime import appkeys


def setup(app: web.Application) -> None:
    discovery_endpoints.add_routes(app)
    inbox.setup(app)
    register_handler(app, "Update", "Service", ActorUpdates())  # a peer rotated its keys
    wake = app[DELIVERY_WAKE] = asyncio.Event()
    app[appkeys.DATABASE].events.subscribe(OutboxQueued, lambda _event: wake.set())
    background = app[appkeys.BACKGROUND]
    background.add("delivery", DeliveryWorker(app).run)
    background.add("inbox-retry", InboxRetryWorker(app).run)
