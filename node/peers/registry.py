"""Peers and their pinned keys as stored: lookups, upserts, pinning, health counters.

Every function takes the caller's session and never commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.activities import origin
from federation.actors import ActorKey
from node.models import OutboxActivity, Peer, PeerKey

OPEN_STATES = ("pending", "sending")


def usable(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """SQL condition: a pinned key not yet past its grace period."""
    return or_(PeerKey.retires_at.is_(None), PeerKey.retires_at > now)


async def keys_for(
    session: AsyncSession, key_id: str, now: datetime
) -> Sequence[tuple[PeerKey, Peer]]:
    """Pinned, unexpired keys published under ``key_id``, newest pin first; failing
    that, every pinned key of the peer whose actor document ``key_id`` points into.

    The second step is what lets a key id change without the trust changing: a peer
    that signs under an id this node did not pin the key under (an older node still
    naming ``#main-key``, a newer one naming ``#main-key-<suffix>`` for a key pinned
    from an older document) is verified against its own pinned keys, and the key that
    verifies is the one matched, by its material and so by its fingerprint. Trust is
    the same either way: only keys pinned for that very actor are candidates.
    """
    order = (PeerKey.retires_at.is_not(None), PeerKey.id.desc())
    rows = await session.execute(
        select(PeerKey, Peer)
        .join(Peer, Peer.id == PeerKey.peer_id)
        .where(PeerKey.key_id == key_id, usable(now))
        .order_by(*order)
    )
    found = [(key, peer) for key, peer in rows.all()]
    if found or "#" not in key_id:
        return found
    rows = await session.execute(
        select(PeerKey, Peer)
        .join(Peer, Peer.id == PeerKey.peer_id)
        .where(Peer.actor_url == key_id.partition("#")[0], usable(now))
        .order_by(*order)
    )
    # Keys of the same name first ("main-key…" for "main-key…"), so that when none
    # verifies, the reason given is about the key the signer meant.
    name = _key_name(key_id)
    found = [(key, peer) for key, peer in rows.all()]
    return sorted(found, key=lambda row: _key_name(row[0].key_id) != name)


def _key_name(key_id: str) -> str:
    """``main-key`` of ``…#main-key-3f9a0c…`` (and of ``…#main-key``)."""
    fragment = key_id.partition("#")[2]
    head, _, tail = fragment.rpartition("-")
    return (
        head
        if head and len(tail) == 12 and all(c in "0123456789abcdef" for c in tail)
        else fragment
    )


async def by_actor(session: AsyncSession, actor_url: str) -> Peer | None:
    return await session.scalar(select(Peer).where(Peer.actor_url == actor_url))


async def by_key_document(session: AsyncSession, key_id: str) -> Peer | None:
    """The peer whose actor document publishes ``key_id`` (``<actor>#main-key-…``)."""
    return await by_actor(session, key_id.partition("#")[0])


async def all_peers(session: AsyncSession) -> Sequence[Peer]:
    return (await session.scalars(select(Peer).order_by(Peer.id))).all()


async def pinned_keys(session: AsyncSession, peer_id: int, now: datetime) -> Sequence[PeerKey]:
    return (
        await session.scalars(
            select(PeerKey).where(PeerKey.peer_id == peer_id, usable(now)).order_by(PeerKey.id)
        )
    ).all()


_PEERS_AND_TRUST = select(
    Peer, select(PeerKey.id).where(PeerKey.peer_id == Peer.id, usable(bindparam("now"))).exists()
).order_by(Peer.id)
"""Built once: every view of the suggestions page asks it."""


async def peers_and_trust(session: AsyncSession, now: datetime) -> Sequence[tuple[Peer, bool]]:
    """Every peer, and whether a key of it is pinned and usable: one statement (the
    frame of resident pages shows each partner city's connection)."""
    rows = await session.execute(_PEERS_AND_TRUST, {"now": now})
    return [(peer, bool(trusted)) for peer, trusted in rows]


async def is_trusted(session: AsyncSession, peer_id: int, now: datetime) -> bool:
    count = await session.scalar(
        select(func.count()).select_from(PeerKey).where(PeerKey.peer_id == peer_id, usable(now))
    )
    return bool(count)


async def upsert(
    session: AsyncSession,
    actor_url: str,
    *,
    source: str,
    config_fingerprints: Sequence[str] | None = None,
) -> Peer:
    """The peer row for ``actor_url``, created if missing.

    ``config_fingerprints`` (given for config peers) replaces what the file pins, and
    keys pinned because of an earlier version of the file and no longer listed are
    dropped: removing a fingerprint from the config revokes it.
    """
    peer = await by_actor(session, actor_url)
    if peer is None:
        peer = Peer(actor_url=actor_url, origin=origin(actor_url), source=source)
        session.add(peer)
        await session.flush()
    elif source == "config" and peer.source != "config":
        peer.source = "config"
    if config_fingerprints is not None:
        wanted = list(config_fingerprints)
        peer.config_fingerprints = wanted
        await session.execute(
            delete(PeerKey).where(
                PeerKey.peer_id == peer.id,
                PeerKey.pinned_by == "config",
                PeerKey.fingerprint.not_in(wanted) if wanted else PeerKey.id.is_not(None),
            )
        )
    return peer


async def pin(
    session: AsyncSession,
    peer: Peer,
    keys: Iterable[ActorKey],
    *,
    pinned_by: str,
    now: datetime,
) -> list[PeerKey]:
    """Pin ``keys`` for ``peer`` (already pinned fingerprints are left alone, but
    un-retired: pinning a key again is an admin saying it is good)."""
    existing = {
        key.fingerprint: key
        for key in (await session.scalars(select(PeerKey).where(PeerKey.peer_id == peer.id))).all()
    }
    added = []
    for key in keys:
        current = existing.get(key.fingerprint)
        if current is not None:
            if current.retires_at is not None and pinned_by == "admin":
                current.retires_at = None
            continue
        row = PeerKey(
            peer_id=peer.id,
            key_id=key.key_id,
            algorithm=key.algorithm,
            public_key_pem=key.pem,
            fingerprint=key.fingerprint,
            pinned_by=pinned_by,
            pinned_at=now,
        )
        session.add(row)
        existing[key.fingerprint] = row
        added.append(row)
    await session.flush()
    return added


async def retire_others(
    session: AsyncSession,
    peer: Peer,
    keep: Iterable[str],
    algorithms: Iterable[str],
    retires_at: datetime,
) -> int:
    """Start the grace period of pinned keys of ``algorithms`` not in ``keep``."""
    keep = set(keep)
    count = 0
    rows = await session.scalars(
        select(PeerKey).where(
            PeerKey.peer_id == peer.id,
            PeerKey.algorithm.in_(list(algorithms)),
            PeerKey.retires_at.is_(None),
        )
    )
    for key in rows.all():
        if key.fingerprint not in keep:
            key.retires_at = retires_at
            count += 1
    return count


@dataclass(frozen=True)
class PeerOverview:
    peer: Peer
    keys: Sequence[PeerKey]
    queued: int
    failed: int


async def overview(session: AsyncSession, now: datetime) -> list[PeerOverview]:
    """Each peer with its usable keys and delivery queue, for ``peer list`` and admins."""
    counts = await session.execute(
        select(OutboxActivity.peer_id, OutboxActivity.state, func.count())
        .where(OutboxActivity.state.in_((*OPEN_STATES, "failed")))
        .group_by(OutboxActivity.peer_id, OutboxActivity.state)
    )
    queued: dict[int, int] = {}
    failed: dict[int, int] = {}
    for peer_id, state, count in counts.all():
        target = failed if state == "failed" else queued
        target[peer_id] = target.get(peer_id, 0) + count
    result = []
    for peer in await all_peers(session):
        result.append(
            PeerOverview(
                peer=peer,
                keys=await pinned_keys(session, peer.id, now),
                queued=queued.get(peer.id, 0),
                failed=failed.get(peer.id, 0),
            )
        )
    return result
