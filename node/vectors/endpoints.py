"""Peer-only GET endpoints of the vector exchange, and the public JSON-LD context.

* ``GET /vectors`` and ``/vectors?page=<cursor>``: this node's published vectors under
  the requesting peer's pseudonyms (signed fetch; unsigned → 401);
* ``GET /p/<pseudonym>``: the minimal actor of a pseudonym, only to the peer it was
  issued for (unknown → 404, deleted with its account → 410; a pseudonym whose profile
  is only withdrawn — paused, or superseded by a reset — still answers, because the
  contacts made under it continue);
* ``GET /ns/zwilling``: the JSON-LD context of the ``InterestProfile`` type.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from federation.documents import ACTIVITYSTREAMS_CONTEXT
from node import pseudonyms
from node.models import Peer
from node.peers.endpoints import require_peer_signature
from node.runtime import appkeys
from node.vectors import _pages as vector_pages
from node.vectors.activities import CONTEXT_PATH, context_document
from node.vectors.appkeys import PUBLISHER

ACTIVITY_JSON = "application/activity+json"
LD_JSON = "application/ld+json"


def _json(document: dict[str, Any], content_type: str = ACTIVITY_JSON) -> web.Response:
    return web.json_response(document, content_type=content_type)


@require_peer_signature
async def vectors(request: web.Request, peer: Peer) -> web.Response:
    publisher = request.app[PUBLISHER]
    cursor = request.query.get("page")
    if cursor is not None:
        try:
            vector_pages.check_cursor(cursor)
        except vector_pages.BadCursor as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
    async with request.app[appkeys.DATABASE].write() as session:
        peer = await session.get(Peer, peer.id) or peer
        if cursor is None or cursor == vector_pages.START:
            await vector_pages.prepare(session, publisher, peer)
        if cursor is None:
            document = await vector_pages.collection(session, publisher, peer)
        else:
            document = await vector_pages.page(session, publisher, peer, cursor)
    return _json(document)


@require_peer_signature
async def pseudonym_actor(request: web.Request, peer: Peer) -> web.Response:
    value = request.match_info["pseudonym"]
    async with request.app[appkeys.DATABASE].read() as session:
        record = await pseudonyms.lookup(session, value)
    if record is None or record.peer_id != peer.id:
        raise web.HTTPNotFound()
    if record.retired or record.resident_id is None:
        raise web.HTTPGone()
    base = request.app[appkeys.CONFIG].node.base_url
    inbox = f"{base}/inbox"
    return _json(
        {
            "@context": [ACTIVITYSTREAMS_CONTEXT],
            "id": pseudonyms.actor_url(base, value),
            "type": "Person",
            "inbox": inbox,
            "endpoints": {"sharedInbox": inbox},
        }
    )


async def ld_context(request: web.Request) -> web.Response:
    return _json(context_document(), LD_JSON)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/vectors", vectors, name="vectors")
    app.router.add_get(pseudonyms.PATH_PREFIX + "{pseudonym}", pseudonym_actor, name="pseudonym")
    app.router.add_get(CONTEXT_PATH, ld_context, name="ld_context")
    app.router.add_get("/ns", ld_context)
