"""Signed GETs to peers (authorized fetch): :class:`SignedFetcher` fetches a JSON
document from a peer, signed with this node's key, so that peer-only endpoints
(vector pages, pseudonym actors) answer. The guard of this node's own peer-only
endpoints is in :mod:`node.peers.endpoints`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from federation import json_limits
from federation.documents import ACTIVITY_JSON, LD_JSON_AS
from federation.keys import PrivateKey
from federation.signatures import sign_request

ACCEPT = ", ".join(
    (
        ACTIVITY_JSON,
        LD_JSON_AS,
        "application/json;q=0.5",
    )
)
DEFAULT_MAX_BYTES = 8 * 1024 * 1024


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
        # Depth-bounded: a peer's document nested thousands deep is the peer's error,
        # not a crash of whatever walks it next.
        return json_limits.loads(b"".join(chunks))
    except json_limits.JsonRefused as exc:
        raise PeerFetchError(f"GET {url}: {exc.reason}") from None


@dataclass(frozen=True)
class SignedFetcher:
    """Fetches JSON documents from peers with this node's HTTP client and key.

    Only for URLs of known peers: this node's own signature vouches for the fetch.
    """

    client: httpx.AsyncClient
    key_id: str
    private_key: PrivateKey

    async def __call__(self, url: str, **options: Any) -> Any:
        return await fetch_json(
            self.client, url, key_id=self.key_id, private_key=self.private_key, **options
        )
