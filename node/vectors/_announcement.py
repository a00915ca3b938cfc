"""Publishing new vectors: the ``published_vectors`` rows and the ``Update`` per peer
that announces each one, written together so that what the node stores and what its
peers are told never drift apart.

Shared by the edit path (``publication``) and the thorough pass (``republication``);
runs in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocabulary import UpdateProfile
from node import pseudonyms
from node.federation import outbox
from node.models import Peer, Pseudonym, PublishedVector, Resident
from node.runtime.db import UnitOfWork
from node.vectors import _withdrawal
from node.vectors._population import chunks, digest
from node.vectors.activities import Publisher, update_activity


async def store_vectors(
    session: AsyncSession,
    updates: dict[int, tuple[dict[str, Any], datetime]],
    stored: dict[int, tuple[str, datetime]],
    now: datetime,
) -> None:
    rows = [
        {
            "resident_id": resident_id,
            "vector": vector,
            "digest": digest(vector),
            "updated": updated,
            "published_at": now,
        }
        for resident_id, (vector, updated) in updates.items()
    ]
    fresh = [row for row in rows if row["resident_id"] not in stored]
    known = [row for row in rows if row["resident_id"] in stored]
    if fresh:
        await session.execute(insert(PublishedVector), fresh)
    if known:
        await session.execute(update(PublishedVector), known)


async def announce_updates(
    session: UnitOfWork,
    publisher: Publisher,
    updates: dict[int, tuple[dict[str, Any], datetime]],
    now: datetime,
) -> None:
    """An ``Update`` per peer for each changed resident, under the current pseudonym
    (created, or published again after a pause, as needed), each with the pseudonym's
    next sequence number."""
    peers = await _withdrawal.peers(session)
    if not updates or not peers:
        return
    ids = sorted(updates)
    epochs: dict[int, int] = {}
    known: dict[str, Pseudonym] = {}
    for chunk in chunks(ids):
        rows = await session.execute(
            select(Resident.id, Resident.pseudonym_epoch).where(Resident.id.in_(chunk))
        )
        epochs.update({resident_id: epoch for resident_id, epoch in rows})
        known.update(
            {
                row.pseudonym: row
                for row in await session.scalars(
                    select(Pseudonym).where(Pseudonym.resident_id.in_(chunk))
                )
            }
        )
    new_rows: list[dict[str, Any]] = []
    activities: list[tuple[Peer, UpdateProfile]] = []
    for resident_id in ids:
        vector, updated = updates[resident_id]
        epoch = epochs[resident_id]
        for peer in peers:
            value = pseudonyms.derive(publisher.secret, resident_id, epoch, peer.actor_url)
            row = known.get(value)
            if row is None:
                sequence = pseudonyms.sequence_start(publisher.secret, value) + 1
                new_rows.append(
                    {
                        "pseudonym": value,
                        "resident_id": resident_id,
                        "peer_id": peer.id,
                        "epoch": epoch,
                        "sequence": sequence,
                    }
                )
            else:
                # Resumed: published again under the same name. (A pseudonym retired
                # before retirement and withdrawal were told apart is reinstated too.)
                row.withdrawn_at = row.retired_at = None
                sequence = pseudonyms.next_sequence(publisher.secret, row)
            activity = update_activity(
                publisher,
                peer.actor_url,
                value,
                vector,
                updated=updated,
                sequence=sequence,
                now=now,
            )
            activities.append((peer, activity))
    if new_rows:
        await session.execute(insert(Pseudonym), new_rows)
    await session.flush()
    await outbox.enqueue_many(session, activities)
