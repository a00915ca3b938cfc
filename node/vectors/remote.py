"""Peers' vectors on this node: validating what arrives and keeping only the newest.

Three ways a vector arrives or leaves — an ``Update``, a ``Delete`` and a full resync —
and one set of rules for all of them:

* a vector whose ``id`` is not on the sending peer's origin is refused (a node speaks
  only for its own residents);
* "newer" is the pseudonym's ``sequence`` number, never a clock: an ``Update`` whose
  sequence is not higher than the stored one's is ignored (deliveries may overtake each
  other, and ``updated`` says only the day);
* a withdrawn profile leaves a tombstone with its sequence, which blocks every
  ``Update`` not newer than the withdrawal, so a late copy cannot bring it back, while
  a resumed profile (newer) can return; a deleted actor's tombstone blocks everything;
* codes this node's vocabularies do not know fall back to a known parent or are
  dropped, and are counted, because that usually means the peers run different
  taxonomy versions and an admin should know.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, TypeVar
from weakref import WeakKeyDictionary

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from federation.activities import origin
from federation.keys import cached_public_key
from federation.proofs import ProofError, verify_proof
from matching.languages import load_languages
from matching.occupations import load_occupations
from matching.profile import InterestProfile
from matching.taxonomy import load_taxonomy
from matching.wire import ProfileFormatError, profile_from_json, profile_to_json
from node.models import Peer, RemoteProfile, Tombstone, utcnow
from node.peers import registry as peer_repo

log = logging.getLogger(__name__)

_LOCK_SPACE = 0x5A57  # advisory lock namespace of the vector store


class ForeignProfile(ValueError):
    """A vector whose id is on another origin than the peer that sent it (403)."""


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


@dataclass(frozen=True, slots=True)
class ReconcileResult:
    stored: int = 0
    unchanged: int = 0
    blocked: int = 0
    removed: int = 0
    dropped_codes: int = 0


def parse_profile(obj: object, peer: Peer) -> tuple[InterestProfile, int]:
    """Validate a peer's ``InterestProfile``; ProfileFormatError (400) or ForeignProfile
    (403). Returns the profile (unknown codes normalised) and how many codes changed."""
    profile, dropped = profile_from_json(obj, load_taxonomy(), load_occupations(), load_languages())
    if not profile.updated:
        raise ProfileFormatError("updated is required")
    if origin(profile.id) != peer.origin:
        raise ForeignProfile(f"{profile.id[:120]} is not on the origin of {peer.actor_url}")
    return profile, dropped


MAX_SEQUENCE = 2**63 - 1


def parse_sequence(obj: Mapping[str, object]) -> int:
    """The ``sequence`` of an ``InterestProfile`` or ``Tombstone``; ProfileFormatError (400)
    unless it is a non-negative integer."""
    value = obj.get("sequence")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEQUENCE:
        raise ProfileFormatError("sequence must be a non-negative integer")
    return value


def parse_moment(value: object) -> datetime | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


async def proof_keys(session: AsyncSession, peer: Peer) -> list[Ed25519PublicKey]:
    """The peer's pinned Ed25519 keys still in use (more than one during a rotation)."""
    keys = []
    for key in await peer_repo.pinned_keys(session, peer.id, utcnow()):
        if key.algorithm == "ed25519":
            public = cached_public_key(key.public_key_pem)
            if isinstance(public, Ed25519PublicKey):
                keys.append(public)
    return keys


def check_proof(
    document: Mapping[str, object],
    peer: Peer,
    keys: Sequence[Ed25519PublicKey],
    *,
    copy_result: bool = True,
) -> dict[str, Any]:
    """The document without its proof, if the proof verifies with one of ``keys`` and
    names a key on the peer's origin; ProofError otherwise. ``copy_result=False``: the
    result shares its values with ``document`` (see ``verify_proof``)."""
    proof = document.get("proof")
    method = proof.get("verificationMethod") if isinstance(proof, dict) else None
    if not isinstance(method, str) or not same_origin(method, peer.origin):
        raise ProofError("the proof's verificationMethod is not on the peer's origin")
    if not keys:
        raise ProofError("no Ed25519 key of this peer is pinned")
    problem = "proof does not verify"
    for key in keys:
        try:
            return verify_proof(document, key, copy_result=copy_result)
        except ProofError as exc:
            problem = exc.reason
    raise ProofError(problem)


# The keys each unit of work read, per peer: the inbox checks a whole batch of a
# peer's activities in one reading unit, and asking the database once is enough there.
# Entries go with their unit (weak keys).
_KEYS_READ: WeakKeyDictionary[AsyncSession, dict[int, list[Ed25519PublicKey]]] = WeakKeyDictionary()


async def verify_peer_proof(
    session: AsyncSession, peer: Peer, document: Mapping[str, object]
) -> dict[str, Any]:
    read = _KEYS_READ.setdefault(session, {})
    keys = read.get(peer.id)
    if keys is None:
        keys = read[peer.id] = await proof_keys(session, peer)
    return check_proof(document, peer, keys)


async def _lock_peer(session: AsyncSession, peer: Peer) -> None:
    """One writer of a peer's vectors at a time: an ``Update`` arriving during a resync
    would otherwise insert the same row twice. On PostgreSQL a transaction-scoped
    advisory lock per peer; SQLite already serialises writers at BEGIN."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:space, :peer)"),
            {"space": _LOCK_SPACE, "peer": peer.id},
        )


def same_origin(url: str, expected: str) -> bool:
    try:
        return origin(url) == expected
    except ValueError:
        return False


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
    await _lock_peer(session, peer)
    tombstone = await session.get(Tombstone, profile.id)
    row = await session.scalar(select(RemoteProfile).where(RemoteProfile.actor_url == profile.id))
    outcome = _decide(sequence, None if row is None else row.sequence, tombstone)
    if outcome == "stored":
        if tombstone is not None:
            await session.delete(tombstone)
        _write(session, peer, row, profile, updated, sequence, dropped)
        _count_dropped(stats, profile.id, dropped)
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
        await _lock_peer(session, peers[peer_id])
    actors = sorted({update_.profile.id for update_ in updates})
    tombstones: dict[str, Tombstone] = {}
    rows: dict[str, RemoteProfile] = {}
    for chunk in _chunks(actors):
        found = await session.scalars(select(Tombstone).where(Tombstone.actor_url.in_(chunk)))
        tombstones.update((tombstone.actor_url, tombstone) for tombstone in found)
    for chunk in _chunks(actors):
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
        outcome = _decide(update_.sequence, held_sequence, tombstone)
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
            _count_dropped(stats, actor, update_.dropped)
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


def _decide(sequence: int, held: int | None, tombstone: Tombstone | None) -> str:
    """``held``: the sequence of the vector held now, if any."""
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


def _count_dropped(stats: VectorStats, actor: str, dropped: int) -> None:
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
    await _lock_peer(session, peer)
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


class _Held(NamedTuple):
    id: int
    actor_url: str
    sequence: int
    received_at: datetime


async def reconcile(
    session: AsyncSession,
    peer: Peer,
    profiles: Sequence[tuple[InterestProfile, int, int]],
    started_at: datetime,
    stats: VectorStats,
) -> ReconcileResult:
    """Make this node's copy of the peer's vectors equal the peer's full set
    (``(profile, sequence, dropped codes)`` each), ordered against inbox deliveries by
    the sequence numbers: what was applied from the inbox is kept if it is newer.

    A vector missing from the set is removed, unless it arrived after the fetch began
    (an ``Update`` that overtook the resync is newer than the set, not stale); its
    tombstone then blocks a late copy of what was removed.

    A city's whole set is tens of thousands of rows: what is held is read as plain
    rows, and what changes is written in bulk statements, not object by object.
    """
    await _lock_peer(session, peer)
    existing = {
        held.actor_url: held
        for held in map(
            _Held._make,
            await session.execute(
                select(
                    RemoteProfile.id,
                    RemoteProfile.actor_url,
                    RemoteProfile.sequence,
                    RemoteProfile.received_at,
                ).where(RemoteProfile.peer_id == peer.id)
            ),
        )
    }
    tombstones = {
        row.actor_url: row
        for row in (
            await session.scalars(select(Tombstone).where(Tombstone.peer_id == peer.id))
        ).all()
    }
    stored = unchanged = blocked = dropped_total = 0
    seen: set[str] = set()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    now = utcnow()
    for profile, sequence, dropped in profiles:
        updated = parse_moment(profile.updated)
        if updated is None or profile.id in seen:
            continue
        seen.add(profile.id)
        held, tombstone = existing.get(profile.id), tombstones.get(profile.id)
        outcome = _decide(sequence, None if held is None else held.sequence, tombstone)
        if outcome == "stored":
            if tombstone is not None:
                await session.delete(tombstone)
                del tombstones[profile.id]
            vector = profile_to_json(profile)
            values = {
                "peer_id": peer.id,
                "vector": vector,
                "kind": vector["kind"],
                "updated": updated,
                "sequence": sequence,
                "dropped_codes": dropped,
                "received_at": now,
            }
            if held is None:
                inserts.append({"actor_url": profile.id, **values})
            else:
                updates.append({"id": held.id, **values})
            _count_dropped(stats, profile.id, dropped)
            dropped_total += dropped
            stored += 1
        elif outcome == "stale":
            unchanged += 1
        else:
            blocked += 1
    await session.flush()  # the tombstones deleted above, before rows under their ids
    await _write_bulk(session, inserts, updates)
    missing = [
        held
        for actor, held in existing.items()
        if actor not in seen and held.received_at < started_at
    ]
    for held in missing:
        tombstone = tombstones.get(held.actor_url)
        if tombstone is None:
            session.add(
                Tombstone(
                    actor_url=held.actor_url, peer_id=peer.id, deleted=now, sequence=held.sequence
                )
            )
        elif held.sequence > tombstone.sequence:
            tombstone.sequence = held.sequence
    for ids in _chunks([held.id for held in missing]):
        await session.execute(delete(RemoteProfile).where(RemoteProfile.id.in_(ids)))
    await session.flush()
    stats.received += stored
    return ReconcileResult(
        stored=stored,
        unchanged=unchanged,
        blocked=blocked,
        removed=len(missing),
        dropped_codes=dropped_total,
    )


_COLUMNS = ("peer_id", "vector", "kind", "updated", "sequence", "dropped_codes", "received_at")


async def _write_bulk(
    session: AsyncSession, inserts: Sequence[dict[str, Any]], updates: Sequence[dict[str, Any]]
) -> None:
    """New rows inserted and held rows replaced, in bulk: on PostgreSQL through ``COPY``
    (into the table, or into a scratch table the ``UPDATE`` joins), which takes a city's
    set in a fraction of the time multi-row statements need; elsewhere in executemany
    statements of ``BULK_ROWS``."""
    if session.bind is None or session.bind.dialect.name != "postgresql":
        for chunk in _chunks(inserts, BULK_ROWS):
            await session.execute(insert(RemoteProfile), chunk)
        for chunk in _chunks(updates, BULK_ROWS):
            await session.execute(update(RemoteProfile), chunk)
        return
    connection = await session.connection()
    driver: Any = (await connection.get_raw_connection()).driver_connection

    def records(rows: Sequence[dict[str, Any]], key: str) -> list[tuple[Any, ...]]:
        return [
            (
                row[key],
                *(json.dumps(row[c]) if c == "vector" else row[c] for c in _COLUMNS),
            )
            for row in rows
        ]

    if inserts:
        await driver.copy_records_to_table(
            "remote_profiles",
            records=records(inserts, "actor_url"),
            columns=["actor_url", *_COLUMNS],
        )
    if updates:
        await session.execute(
            text(
                "CREATE TEMPORARY TABLE incoming_profiles (id integer, peer_id integer, "
                "vector json, kind varchar(16), updated timestamptz, sequence bigint, "
                "dropped_codes integer, received_at timestamptz) ON COMMIT DROP"
            )
        )
        await driver.copy_records_to_table(
            "incoming_profiles", records=records(updates, "id"), columns=["id", *_COLUMNS]
        )
        assignments = ", ".join(f"{c} = i.{c}" for c in _COLUMNS)
        await session.execute(
            text(
                f"UPDATE remote_profiles AS r SET {assignments} "  # noqa: S608 - fixed names
                "FROM incoming_profiles AS i WHERE r.id = i.id"
            )
        )


BULK_ROWS = 5_000
"""Rows per bulk statement: large enough to amortise a round trip, small enough for a
PostgreSQL statement's parameter limit and a bounded buffer."""

T = TypeVar("T")


def _chunks(values: Sequence[T], size: int = 500) -> Iterable[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


async def holds_any(session: AsyncSession, peer: Peer) -> bool:
    """Whether any vector of the peer is held (none: first contact, pull the full set)."""
    found = await session.scalar(
        select(RemoteProfile.id).where(RemoteProfile.peer_id == peer.id).limit(1)
    )
    return found is not None
