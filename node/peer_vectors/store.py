"""Peers' vectors kept on this node: an ``Update`` or a ``Delete`` stored, keeping only
the newest.

One set of rules for every way a vector arrives or leaves (the inbox's ``Update`` and
``Delete`` here, the full resync in ``reconcile``, which shares the rules through
:func:`decide`, :func:`lock_peer` and :func:`count_dropped`):

* "newer" is the pseudonym's ``sequence`` number, never a clock: an ``Update`` whose
  sequence is not higher than the stored one's is ignored (deliveries may overtake each
  other, and ``updated`` says only the day);
* a withdrawn profile leaves a tombstone with its sequence, which blocks every
  ``Update`` not newer than the withdrawal, so a late copy cannot bring it back, while
  a resumed profile (newer) can return; a deleted actor's tombstone blocks everything;
* codes this node's vocabularies did not know (see ``arrival``) are counted and
  logged, because that usually means the peers run different taxonomy versions and
  an admin should know.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from matching.profile import InterestProfile
from matching.wire import ProfileFormatError, profile_to_json
from node.models import Peer, RemoteProfile, Tombstone, utcnow
from node.peer_vectors.arrival import parse_moment

log = logging.getLogger(__name__)

_LOCK_SPACE = 0x5A57  # advisory lock namespace of the vector store


@dataclass
class VectorStats:
    """Counters since the node started, for logs and the admin overview."""

    received: int = 0
    stale: int = 0
    tombstoned: int = 0
    withdrawn: int = 0
    dropped_codes: int = 0
    profiles_with_dropped_codes: int = 0


@dataclass(frozen=True, slots=True)
class RemoteVectorsChanged:
    """A peer's vectors as held here changed: matches with that peer are stale."""

    peer_id: int


async def lock_peer(session: AsyncSession, peer: Peer) -> None:
    """One writer of a peer's vectors at a time: an ``Update`` arriving during a resync
    would otherwise insert the same row twice. On PostgreSQL a transaction-scoped
    advisory lock per peer; SQLite already serialises writers at BEGIN."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:space, :peer)"),
            {"space": _LOCK_SPACE, "peer": peer.id},
        )


async def store_update(
    session: AsyncSession,
    peer: Peer,
    profile: InterestProfile,
    sequence: int,
    dropped: int,
    stats: VectorStats,
) -> str:
    """Store ``profile`` unless a newer one or a newer tombstone is held.
    Returns ``stored``, ``stale`` or ``tombstoned``."""
    updated = parse_moment(profile.updated)
    if updated is None:
        raise ProfileFormatError("updated must be an ISO 8601 timestamp with a time zone")
    await lock_peer(session, peer)
    tombstone = await session.get(Tombstone, profile.id)
    row = await session.scalar(select(RemoteProfile).where(RemoteProfile.actor_url == profile.id))
    outcome = decide(sequence, None if row is None else row.sequence, tombstone)
    if outcome == "stored":
        if tombstone is not None:
            await session.delete(tombstone)
        _write(session, peer, row, profile, updated, sequence, dropped)
        count_dropped(stats, profile.id, dropped)
        stats.received += 1
    elif outcome == "stale":
        stats.stale += 1
    else:
        stats.tombstoned += 1
    await session.flush()
    return outcome


@dataclass(frozen=True, slots=True)
class ProfileUpdate:
    """One peer's ``Update`` of a profile, parsed: what :func:`store_update` takes."""

    peer: Peer
    profile: InterestProfile
    sequence: int
    dropped: int


async def store_updates(
    session: AsyncSession, updates: Sequence[ProfileUpdate], stats: VectorStats
) -> list[str]:
    """:func:`store_update` for each of ``updates`` in turn, with the same outcomes, in a
    constant number of statements: the inbox stores a batch of arrivals in one unit,
    and a round trip per activity and table would keep it waiting on the database."""
    moments = []
    for update_ in updates:
        updated = parse_moment(update_.profile.updated)
        if updated is None:
            raise ProfileFormatError("updated must be an ISO 8601 timestamp with a time zone")
        moments.append(updated)
    peers = {update_.peer.id: update_.peer for update_ in updates}
    for peer_id in sorted(peers):  # one order for every unit: no deadlock between them
        await lock_peer(session, peers[peer_id])
    actors = sorted({update_.profile.id for update_ in updates})
    tombstones: dict[str, Tombstone] = {}
    rows: dict[str, RemoteProfile] = {}
    for chunk in chunks(actors):
        found = await session.scalars(select(Tombstone).where(Tombstone.actor_url.in_(chunk)))
        tombstones.update((tombstone.actor_url, tombstone) for tombstone in found)
    for chunk in chunks(actors):
        held = await session.scalars(
            select(RemoteProfile)
            .where(RemoteProfile.actor_url.in_(chunk))
            .options(defer(RemoteProfile.vector))
        )
        rows.update((row.actor_url, row) for row in held)
    # New rows are inserted in one statement at the end (the ORM would insert them one
    # by one to learn their ids): a later update of the same pseudonym in this batch
    # replaces the values still to insert.
    inserts: dict[str, dict[str, Any]] = {}
    outcomes = []
    for update_, updated in zip(updates, moments, strict=True):
        actor = update_.profile.id
        tombstone, row, new = tombstones.get(actor), rows.get(actor), inserts.get(actor)
        held_sequence = new["sequence"] if new else None if row is None else row.sequence
        outcome = decide(update_.sequence, held_sequence, tombstone)
        if outcome == "stored":
            if tombstone is not None:
                await session.delete(tombstone)
                del tombstones[actor]
            if row is None:
                vector = profile_to_json(update_.profile)
                inserts[actor] = {
                    "peer_id": update_.peer.id,
                    "actor_url": actor,
                    "vector": vector,
                    "kind": vector["kind"],
                    "updated": updated,
                    "sequence": update_.sequence,
                    "dropped_codes": update_.dropped,
                    "received_at": utcnow(),
                }
            else:
                _write(
                    session,
                    update_.peer,
                    row,
                    update_.profile,
                    updated,
                    update_.sequence,
                    update_.dropped,
                )
            count_dropped(stats, actor, update_.dropped)
            stats.received += 1
        elif outcome == "stale":
            stats.stale += 1
        else:
            stats.tombstoned += 1
        outcomes.append(outcome)
    await session.flush()
    if inserts:
        await session.execute(insert(RemoteProfile), list(inserts.values()))
    return outcomes


def decide(sequence: int, held: int | None, tombstone: Tombstone | None) -> str:
    """``stored``, ``stale`` or ``tombstoned``: the one ordering rule of every way a
    vector arrives (here and in ``reconcile``). ``held``: the sequence of the vector
    held now, if any."""
    if tombstone is not None and (tombstone.actor_deleted or sequence <= tombstone.sequence):
        return "tombstoned"
    if held is not None and sequence <= held:
        return "stale"
    return "stored"


def _write(
    session: AsyncSession,
    peer: Peer,
    row: RemoteProfile | None,
    profile: InterestProfile,
    updated: datetime,
    sequence: int,
    dropped: int,
) -> None:
    vector = profile_to_json(profile)
    now = utcnow()
    if row is None:
        session.add(
            RemoteProfile(
                peer_id=peer.id,
                actor_url=profile.id,
                vector=vector,
                kind=vector["kind"],
                updated=updated,
                sequence=sequence,
                dropped_codes=dropped,
                received_at=now,
            )
        )
    else:
        row.peer_id = peer.id
        row.vector = vector
        row.kind = vector["kind"]
        row.updated = updated
        row.sequence = sequence
        row.dropped_codes = dropped
        row.received_at = now


def count_dropped(stats: VectorStats, actor: str, dropped: int) -> None:
    """Unknown codes counted and logged per vector, for whichever way it arrived."""
    if dropped:
        stats.dropped_codes += dropped
        stats.profiles_with_dropped_codes += 1
        log.warning(
            "peer vector had unknown codes",
            extra={"actor": actor, "codes": dropped, "total": stats.dropped_codes},
        )


async def store_withdrawal(
    session: AsyncSession,
    peer: Peer,
    actor_url: str,
    *,
    sequence: int,
    deleted: datetime,
    actor_deleted: bool,
    stats: VectorStats,
) -> bool:
    """Drop the peer resident's vector (and with it, through the foreign keys, every
    suggestion and twin naming it) and remember the withdrawal. False when the stored
    vector is newer than a profile withdrawal (a resumed profile overtook the Delete);
    a deleted actor always goes."""
    await lock_peer(session, peer)
    row = await session.scalar(select(RemoteProfile).where(RemoteProfile.actor_url == actor_url))
    tombstone = await session.get(Tombstone, actor_url)
    if tombstone is None:
        session.add(
            Tombstone(
                actor_url=actor_url,
                peer_id=peer.id,
                deleted=deleted,
                sequence=sequence,
                actor_deleted=actor_deleted,
            )
        )
    else:
        if sequence > tombstone.sequence:
            tombstone.sequence = sequence
            tombstone.deleted = deleted
        tombstone.actor_deleted = tombstone.actor_deleted or actor_deleted
    if row is not None and row.sequence > sequence and not actor_deleted:
        await session.flush()
        return False
    if row is not None:
        await session.execute(delete(RemoteProfile).where(RemoteProfile.id == row.id))
    stats.withdrawn += 1
    await session.flush()
    return True


T = TypeVar("T")


def chunks(values: Sequence[T], size: int = 500) -> Iterable[Sequence[T]]:
    """Slices small enough for an ``IN`` list or one bulk statement."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


async def holds_any(session: AsyncSession, peer: Peer) -> bool:
    """Whether any vector of the peer is held (none: first contact, pull the full set)."""
    found = await session.scalar(
        select(RemoteProfile.id).where(RemoteProfile.peer_id == peer.id).limit(1)
    )
    return found is not None
