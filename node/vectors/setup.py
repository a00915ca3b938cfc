"""The vector exchange as one feature: the publisher (generalise, sign, queue), the
peer-only endpoints (``/vectors``, pseudonym actors, the JSON-LD context) and the
inbox handlers of peers' ``Update`` and ``Delete`` of their profiles.
"""

from __future__ import annotations

from aiohttp import web

from node.runtime import appkeys
from node.vectors import endpoints, handlers
from node.vectors.activities import publisher_for
from node.vectors.appkeys import PUBLISHER, VECTOR_STATS
from node.vectors.remote import VectorStats


def setup(app: web.Application) -> None:
    app[PUBLISHER] = publisher_for(app[appkeys.CONFIG], app[appkeys.KEYS])
    app[VECTOR_STATS] = VectorStats()
    endpoints.add_routes(app)
    handlers.register(app)
