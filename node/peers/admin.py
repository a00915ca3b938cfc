"""What admins do to peers: look one up, pin its keys, remove it, requeue its deliveries.

Looking up accepts what an admin is likely to have been told: ``acct:slug@host``
(or ``slug@host``), the node's address ``https://host``, or its actor URL. The
first two go through WebFinger; a bare host whose WebFinger does not know
itself falls back to ``/actor``, where every node of this project lives.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from urllib.parse import urlencode, urlsplit

import httpx
from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation.actors import ActorError, ActorInfo, ActorKey, parse_actor
from federation.documents import ACTIVITY_JSON, JRD_JSON
from federation.keys import PrivateKey
from node.models import OutboxActivity, Peer
from node.peers import registry as repo
from node.peers.fetch import PeerFetchError, fetch_json
from node.peers.refresh import apply_actor

_ACCT = re.compile(r"^(?:acct:)?([A-Za-z0-9._~-]+)@([A-Za-z0-9.-]+(?::\d{1,5})?)$")


class PeerLookupError(Exception):
    """The peer could not be found or its document is unusable; says why."""


@dataclass(frozen=True)
class Signer:
    key_id: str
    private_key: PrivateKey


async def _webfinger(
    client: httpx.AsyncClient, base: str, resource: str, signer: Signer
) -> str | None:
    url = f"{base}/.well-known/webfinger?{urlencode({'resource': resource})}"
    try:
        document = await fetch_json(
            client, url, key_id=signer.key_id, private_key=signer.private_key, accept=JRD_JSON
        )
    except PeerFetchError as exc:
        if exc.status == 404:
            return None
        raise PeerLookupError(exc.reason) from None
    links = document.get("links") if isinstance(document, dict) else None
    for link in links if isinstance(links, list) else []:
        if (
            isinstance(link, dict)
            and link.get("rel") == "self"
            and isinstance(link.get("href"), str)
            and (link.get("type") or ACTIVITY_JSON).startswith(
                (ACTIVITY_JSON, "application/ld+json")
            )
        ):
            return str(link["href"])
    raise PeerLookupError(f"WebFinger for {resource} has no ActivityPub self link")


async def actor_url_for(
    client: httpx.AsyncClient, target: str, signer: Signer, *, scheme: str = "https"
) -> str:
    """The actor URL an admin's ``target`` designates (WebFinger where needed)."""
    target = target.strip()
    account = _ACCT.match(target)
    if account:
        user, host = account.groups()
        found = await _webfinger(client, f"{scheme}://{host}", f"acct:{user}@{host}", signer)
        if found is None:
            raise PeerLookupError(f"{host} does not know acct:{user}@{host}")
        return found
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PeerLookupError(f"{target!r} is neither acct:name@host nor an http(s) URL")
    if parts.path not in ("", "/"):
        return target
    base = f"{parts.scheme}://{parts.netloc}"
    return await _webfinger(client, base, base, signer) or f"{base}/actor"


async def discover(
    client: httpx.AsyncClient, target: str, signer: Signer, *, scheme: str = "https"
) -> ActorInfo:
    """Fetch and parse the actor ``target`` designates (signed GETs throughout)."""
    actor_url = await actor_url_for(client, target, signer, scheme=scheme)
    try:
        document = await fetch_json(
            client, actor_url, key_id=signer.key_id, private_key=signer.private_key
        )
        return parse_actor(document, expected_id=actor_url)
    except PeerFetchError as exc:
        raise PeerLookupError(exc.reason) from None
    except ActorError as exc:
        raise PeerLookupError(f"{actor_url}: {exc}") from None


async def pin_peer(
    session: AsyncSession, actor: ActorInfo, keys: Sequence[ActorKey], now: datetime
) -> Peer:
    """Pin ``keys`` of ``actor`` as the admin's decision; creates the peer if new."""
    peer = await repo.upsert(session, actor.id, source="admin")
    apply_actor(peer, actor, now)
    await repo.pin(session, peer, keys, pinned_by="admin", now=now)
    if peer.state in ("unknown", "untrusted"):
        peer.state = "reachable"
    peer.last_error = None
    return peer


async def find(session: AsyncSession, target: str) -> Peer | None:
    """A peer by actor URL, or by its host when only one peer lives there."""
    peer = await repo.by_actor(session, target.rstrip("/"))
    if peer is not None:
        return peer
    parts = urlsplit(target)
    if parts.hostname:
        candidates = [
            p for p in await repo.all_peers(session) if urlsplit(p.actor_url).netloc == parts.netloc
        ]
        if len(candidates) == 1:
            return candidates[0]
    return None


async def remove(session: AsyncSession, peer: Peer) -> int:
    """Delete the peer, its pinned keys and its queued deliveries; the rows dropped."""
    queued = await session.scalar(
        select(func.count()).select_from(OutboxActivity).where(OutboxActivity.peer_id == peer.id)
    )
    await session.execute(delete(OutboxActivity).where(OutboxActivity.peer_id == peer.id))
    await session.delete(peer)
    return int(queued or 0)


async def requeue_failed(session: AsyncSession, peer: Peer, now: datetime) -> int:
    """Queue the peer's failed deliveries again (after its admin fixed what refused them)."""
    # An UPDATE executed on a session returns a CursorResult, which has the row count.
    result = cast(
        "CursorResult[Any]",
        await session.execute(
            update(OutboxActivity)
            .where(OutboxActivity.peer_id == peer.id, OutboxActivity.state == "failed")
            .values(state="pending", next_try_at=now, tries=0, created_at=now, last_error=None)
            .execution_options(synchronize_session=False)
        ),
    )
    peer.next_attempt_at = None
    return int(result.rowcount or 0)
