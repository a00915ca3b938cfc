"""The vector exchange as a node feature: publication, the peer endpoints, the inbox
handlers, and the in-memory matching state with its per-request refresh.

The worker that computes matches is a separate part (:mod:`node.matches.worker`),
registered only where the node runs its workers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from node.federation.delivery_worker import wake
from node.matches.compute import MATCHING, setup_state
from node.matches.refresh import refresh_middleware, refresh_residents
from node.runtime import appkeys
from node.vectors import endpoints as vector_endpoints
from node.vectors import handlers as vector_inbox
from node.vectors.activities import publisher_for
from node.vectors.publication import bind


def setup(app: web.Application) -> None:
    publisher = publisher_for(app[appkeys.CONFIG], app[appkeys.KEYS])
    vector_endpoints.setup(app, publisher)
    vector_inbox.setup(app)
    setup_state(app)
    app.middlewares.append(refresh_middleware(_after_change))
    app.cleanup_ctx.append(_bind_publisher)


async def _bind_publisher(app: web.Application) -> AsyncIterator[None]:
    # The profile hooks get only a session; the sessions carry the publisher to them.
    bind(app[appkeys.SESSIONS], app[vector_endpoints.PUBLISHER])
    yield


async def _after_change(app: web.Application, resident_ids: set[int]) -> None:
    """After a committed profile change: send the queued activities now, refresh the
    residents' suggestions, and have the twins recomputed as the peer will do."""
    wake(app)
    app[MATCHING].poke()
    await refresh_residents(app, resident_ids)
