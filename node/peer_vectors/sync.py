"""Full resync: pull a peer's whole published set (``GET /vectors``, signed) and make this
node's copy equal to it.

Every page must carry a valid integrity proof from the peer's pinned Ed25519 key and
every link must stay on the peer's origin; anything else aborts the sync before a
single row changes, because reconciling against a partial set would delete profiles
that still exist. Malformed single items are skipped and counted.

Every item carries its pseudonym's ``sequence``, the same number the inbox orders by,
so a page fetched while ``Update``s and ``Delete``s arrive is applied only where it is
newer than what they brought.

The network part runs without a database transaction open, so a slow peer never
holds the node's write lock.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from federation.proofs import ProofError
from matching.profile import InterestProfile
from matching.wire import ProfileFormatError
from node.models import Peer, utcnow
from node.peer_vectors import arrival
from node.peer_vectors.arrival import ForeignProfile
from node.peer_vectors.reconcile import ReconcileResult, reconcile
from node.peer_vectors.store import RemoteVectorsChanged, VectorStats
from node.peers.fetch import PeerFetchError
from node.runtime.db import Database

log = logging.getLogger(__name__)

Fetch = Callable[[str], Awaitable[Any]]
MAX_PAGES = 10_000


class SyncError(Exception):
    """The peer's set could not be read completely and verified; nothing was changed."""


@dataclass(frozen=True, slots=True)
class SyncResult:
    peer: str
    fetched: int
    invalid: int
    pages: int
    reconciled: ReconcileResult


def vectors_url(peer: Peer) -> str:
    """Where a peer serves its set: next to its actor (``<base>/actor`` → ``<base>/vectors``)."""
    return peer.actor_url.removesuffix("/actor") + "/vectors"


async def sync_peer(
    db: Database,
    fetch: Fetch,
    peer_id: int,
    stats: VectorStats,
) -> SyncResult:
    started = utcnow()
    async with db.read() as session:
        peer = await session.get(Peer, peer_id)
        if peer is None:
            raise SyncError(f"peer {peer_id} is not known")
        keys = await arrival.proof_keys(session, peer)
    profiles, invalid, pages = await _pull(fetch, peer, keys)
    async with db.write() as session:
        current = await session.get(Peer, peer_id)
        if current is None:
            raise SyncError(f"peer {peer.actor_url} was removed during the sync")
        result = await reconcile(session, current, profiles, started, stats)
        current.last_sync_at = utcnow()
        session.record(RemoteVectorsChanged(peer_id))
    log.info(
        "vectors synced",
        extra={
            "peer": peer.actor_url,
            "pages": pages,
            "fetched": len(profiles),
            "invalid": invalid,
            "stored": result.stored,
            "removed": result.removed,
            "blocked": result.blocked,
        },
    )
    return SyncResult(peer.actor_url, len(profiles), invalid, pages, result)


async def _get(fetch: Fetch, url: str, peer: Peer, keys: Any, kind: str) -> dict[str, Any]:
    if not arrival.same_origin(url, peer.origin):
        raise SyncError(f"{url[:120]} is not on the origin of {peer.actor_url}")
    try:
        document = await fetch(url)
    except PeerFetchError as exc:
        raise SyncError(exc.reason) from None
    if not isinstance(document, dict) or document.get("type") != kind:
        raise SyncError(f"{url[:120]}: expected an {kind}")
    try:
        # Only read from here on: a copy of a 500-item page would cost more than its proof.
        return arrival.check_proof(document, peer, keys, copy_result=False)
    except ProofError as exc:
        raise SyncError(f"{url[:120]}: integrity proof: {exc.reason}") from None


async def _pull(
    fetch: Fetch, peer: Peer, keys: Any
) -> tuple[list[tuple[InterestProfile, int, int]], int, int]:
    collection = await _get(fetch, vectors_url(peer), peer, keys, "OrderedCollection")
    url = collection.get("first")
    profiles: list[tuple[InterestProfile, int, int]] = []
    invalid = pages = 0
    seen: set[str] = set()
    while url is not None:
        if not isinstance(url, str) or url in seen or pages >= MAX_PAGES:
            raise SyncError(f"the page links of {peer.actor_url} do not end")
        seen.add(url)
        page = await _get(fetch, url, peer, keys, "OrderedCollectionPage")
        pages += 1
        items = page.get("orderedItems", [])
        if not isinstance(items, list):
            raise SyncError(f"{url[:120]}: orderedItems must be a list")
        for item in items:
            try:
                profile, dropped = arrival.parse_profile(item, peer)
                profiles.append((profile, arrival.parse_sequence(item), dropped))
            except (ProfileFormatError, ForeignProfile) as exc:
                invalid += 1
                log.warning(
                    "peer vector refused", extra={"peer": peer.actor_url, "error": str(exc)}
                )
        url = page.get("next")
    return profiles, invalid, pages
