"""The partner cities' vectors as one feature: the counters of what arrived and the
inbox handlers of peers' ``Update`` and ``Delete`` of their profiles.
"""

from __future__ import annotations

from aiohttp import web

from node.peer_vectors import handlers
from node.peer_vectors.appkeys import VECTOR_STATS
from node.peer_vectors.store import VectorStats


def setup(app: web.Application) -> None:
    app[VECTOR_STATS] = VectorStats()
    handlers.register(app)
