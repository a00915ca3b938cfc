"""The peer registry as one feature: config peers upserted at start, their actors
fetched and keys pinned (``PeerRefresher``), and signed fetches to peers. It knows
nothing of the inbox or the outbox; key rotation, which announces itself through
them, belongs to ``node.federation``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from node.peers.appkeys import FETCHER, REFRESHER
from node.peers.fetch import SignedFetcher
from node.peers.refresh import PeerRefresher, main_key_id, sync_config_peers
from node.runtime import appkeys


def setup(app: web.Application) -> None:
    config = app[appkeys.CONFIG]
    fetch = SignedFetcher(
        app[appkeys.HTTP], main_key_id(config, app[appkeys.KEYS]), app[appkeys.KEYS].rsa
    )
    app[FETCHER] = fetch
    app[REFRESHER] = PeerRefresher(config, app[appkeys.DATABASE], fetch)
    app.cleanup_ctx.append(_known_peers)


async def _known_peers(app: web.Application) -> AsyncIterator[None]:
    """Config peers into the database before the first request; actors fetched meanwhile."""
    await sync_config_peers(app[appkeys.CONFIG], app[appkeys.DATABASE])
    task = asyncio.create_task(app[REFRESHER].refresh_unfetched(), name="peer-refresh")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
