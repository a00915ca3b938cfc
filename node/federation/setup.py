"""The node's side of the protocol as one feature: discovery, the signed inbox and its
handler registry, the peer registry with its actor refresher, delivery of the outbox
and re-applying failed inbox rows.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from node.federation import discovery_endpoints, inbox
from node.federation.actor_handlers import ActorUpdates
from node.federation.appkeys import DELIVERY_WAKE, FETCHER, REFRESHER
from node.federation.delivery_worker import DeliveryWorker
from node.federation.handlers import register_handler
from node.federation.inbox_worker import InboxRetryWorker
from node.federation.outbox import OutboxQueued
from node.federation.peer_fetch import SignedFetcher
from node.federation.peer_refresh import PeerRefresher, main_key_id, sync_config_peers
from node.runtime import appkeys


def setup(app: web.Application) -> None:
    config = app[appkeys.CONFIG]
    db = app[appkeys.DATABASE]
    fetch = SignedFetcher(app[appkeys.HTTP], main_key_id(config), app[appkeys.KEYS].rsa)
    app[FETCHER] = fetch
    app[REFRESHER] = PeerRefresher(config, db, fetch)
    app.cleanup_ctx.append(_known_peers)

    discovery_endpoints.add_routes(app)
    inbox.setup(app)
    register_handler(app, "Update", "Service", ActorUpdates())

    wake = app[DELIVERY_WAKE] = asyncio.Event()
    db.events.subscribe(OutboxQueued, lambda _event: wake.set())
    background = app[appkeys.BACKGROUND]
    background.add("delivery", DeliveryWorker(app).run)
    background.add("inbox-retry", InboxRetryWorker(app).run)


async def _known_peers(app: web.Application) -> AsyncIterator[None]:
    """Config peers into the database before the first request; actors fetched meanwhile."""
    await sync_config_peers(app[appkeys.CONFIG], app[appkeys.DATABASE])
    task = asyncio.create_task(app[REFRESHER].refresh_unfetched(), name="peer-refresh")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
