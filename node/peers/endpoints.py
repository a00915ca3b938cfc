"""The guard of this node's peer-only endpoints (vector pages, pseudonym actors): only
a GET signed by a pinned key of a configured peer, for one of this node's public
authorities, gets through; anything else is answered 401 with the reason (503 while
the peer's keys are still being fetched). The signature may cover the query or only
the path (``federation.inbox.authenticate``): these resources are read-only, the
query only picks a page, and every page carries its own proof.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from functools import wraps

from aiohttp import web

from federation.inbox import Rejected, authenticate
from node.models import Peer
from node.runtime import appkeys

PeerHandler = Callable[[web.Request, Peer], Awaitable[web.StreamResponse]]


async def verified_peer(request: web.Request) -> Peer:
    """The peer whose pinned key signed this GET, or HTTPUnauthorized with the reason."""
    app = request.app
    try:
        signer = await authenticate(
            request, b"", app[appkeys.INBOX_SETTINGS], app[appkeys.PINNED_KEYS]
        )
    except Rejected as exc:
        if exc.status == 503:
            raise web.HTTPServiceUnavailable(
                text=json.dumps({"error": exc.reason}), content_type="application/json"
            ) from None
        raise web.HTTPUnauthorized(
            text=json.dumps({"error": exc.reason}),
            content_type="application/json",
            headers={
                "WWW-Authenticate": 'Signature realm="peers",headers="(request-target) host date"'
            },
        ) from None
    peer: Peer = signer.peer
    return peer


def require_peer_signature(
    handler: PeerHandler,
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Decorate a peer-only GET handler ``(request, peer)``; unsigned requests get 401."""

    @wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        return await handler(request, await verified_peer(request))

    return guarded
