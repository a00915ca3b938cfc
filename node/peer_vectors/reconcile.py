"""A peer's whole set applied at once: this node's copy made equal to what a full
resync (``sync``) fetched, by the same ordering rules as the inbox's ``Update`` and
``Delete`` (``store``), and written in bulk because a city's set is tens of
thousands of rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from matching.profile import InterestProfile
from matching.wire import profile_to_json
from node.models import Peer, RemoteProfile, Tombstone, utcnow
from node.peer_vectors.arrival import parse_moment
from node.peer_vectors.store import VectorStats, chunks, count_dropped, decide, lock_peer


@dataclass(frozen=True, slots=True)
class ReconcileResult:
    stored: int = 0
    unchanged: int = 0
    blocked: int = 0
    removed: int = 0
    dropped_codes: int = 0


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
    await lock_peer(session, peer)
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
        outcome = decide(sequence, None if held is None else held.sequence, tombstone)
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
            count_dropped(stats, profile.id, dropped)
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
    for ids in chunks([held.id for held in missing]):
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
        for chunk in chunks(inserts, BULK_ROWS):
            await session.execute(insert(RemoteProfile), chunk)
        for chunk in chunks(updates, BULK_ROWS):
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
