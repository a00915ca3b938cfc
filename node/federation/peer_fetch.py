"""Signed GETs between peers (authorized fetch), both directions.

Outgoing: :func:`signed_get` fetches a JSON document from a peer, signed with
this node's key so that peer-only endpoints (vector pages, pseudonym actors)
answer. Incoming: :func:`verified_peer` / :func:`require_peer_signature` guard
such endpoints here: only a request signed by a pinned key of a configured
peer gets through, anything else is answered 401 with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

import httpx
from aiohttp import web

from federation.documents import ACTIVITY_JSON, LD_JSON_AS
from federation.inbox import Rejected, authenticate
from federation.keys import PrivateKey
from federation.signatures import sign_request
from node.models import Peer
from node.runtime import appkeys

ACCEPT = ", ".join(
    (
        ACTIVITY_JSON,
        LD_JSON_AS,
        "application/json;q=0.5",
    )
)
DEFAULT_MAX_BYTES = 8 * 1024 * 1024

PeerHandler = Callable[[web.Request, Peer], Awaitable[web.StreamResponse]]


class PeerFetchError(Exception):
    """A fetch that gave no usable document; ``status`` is the HTTP status if any."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


async def fetch_json(
    client: httpx.AsyncClient,
    url: str,
    *,
    key_id: str,
    private_key: PrivateKey,
    accept: str = ACCEPT,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Any:
    """GET ``url`` signed with ``private_key``; the decoded JSON, or PeerFetchError."""
    headers = sign_request(
        "GET", url, {"Accept": accept}, None, key_id=key_id, private_key=private_key
    )
    try:
        async with client.stream("GET", url, headers=headers) as response:
            if response.status_code != 200:
                raise PeerFetchError(
                    f"GET {url}: HTTP {response.status_code}", response.status_code
                )
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise PeerFetchError(f"GET {url}: document larger than {max_bytes} bytes")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise PeerFetchError(f"GET {url}: document larger than {max_bytes} bytes")
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise PeerFetchError(f"GET {url}: {type(exc).__name__}: {exc}") from None
    try:
        return json.loads(b"".join(chunks))
    except ValueError as exc:
        raise PeerFetchError(f"GET {url}: not JSON: {exc}") from None


async def signed_get(app: web.Application, url: str, **options: Any) -> Any:
    """Fetch ``url`` from a peer with the running node's client and key.

    Only for URLs of known peers: this node's own signature vouches for the fetch.
    """
    config = app[appkeys.CONFIG]
    return await fetch_json(
        app[appkeys.HTTP],
        url,
        key_id=f"{config.actor_url}#main-key",
        private_key=app[appkeys.KEYS].rsa,
        **options,
    )


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
