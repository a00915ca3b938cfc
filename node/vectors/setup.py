"""The vector exchange's outgoing side as one feature: the publisher (generalise, sign,
queue) and the peer-only endpoints (``/vectors``, pseudonym actors, the JSON-LD
context). What peers send is :mod:`node.peer_vectors`.
"""

from __future__ import annotations

from aiohttp import web

from node.runtime import appkeys
from node.vectors import endpoints
from node.vectors.activities import publisher_for
from node.vectors.appkeys import PUBLISHER


def setup(app: web.Application) -> None:
    app[PUBLISHER] = publisher_for(app[appkeys.CONFIG], app[appkeys.KEYS])
    endpoints.add_routes(app)
