"""Publishing this node's residents to its peers: generalise, compare with what peers
were told, and queue exactly the ``Update``s and ``Delete``s that make them agree.

k-anonymity counts the whole published population, so one resident's edit can change
another resident's vector (the fifth cyclist lets "cycling" through for all five).
A change therefore goes through the generalisation index, which names everybody the
change touches, and all of them are republished if their vector moved. A *thorough*
pass (at start-up and with every periodic recompute) compares everybody instead; it
also repairs anything a crash or a change that bypassed the hooks left behind.

Everything runs in the caller's transaction: the outbox rows commit with the change.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocabulary import UpdateProfile
from node import pseudonyms
from node.contacts import remote_consent
from node.federation import outbox
from node.models import Peer, Pseudonym, PublishedVector, Resident, Suggestion, Twin, utcnow
from node.runtime.db import UnitOfWork
from node.vectors import _population as vector_population
from node.vectors._generalisation import Generaliser
from node.vectors._population import chunks, digest, stored_form
from node.vectors.activities import Publisher, delete_activity, timestamp, update_activity

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class VectorsChanged:
    """Published vectors changed through an edit of these residents (none for a
    departure): their own suggestions are stale at once, and the twins as soon as
    peers recompute with the new vectors; so should this node."""

    resident_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PublicationResult:
    updated: tuple[int, ...] = ()
    withdrawn: tuple[int, ...] = ()
    orphans: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.updated or self.withdrawn or self.orphans)


async def publish_changes(
    session: UnitOfWork,
    publisher: Publisher,
    *,
    changed: Iterable[int] = (),
    leaving: int | None = None,
    thorough: bool = False,
) -> PublicationResult:
    """Bring what peers hold in line with the current profiles.

    ``changed`` are residents whose profile, pause switch or status just changed;
    ``leaving`` is a resident about to be deleted. ``thorough`` compares everybody,
    withdraws pseudonyms left current by anything that bypassed the hooks, and creates
    missing pseudonym rows for peers added later.
    """
    await vector_population.serialise(session)
    now = utcnow()
    cache = publisher.population
    generation = await vector_population.generation(session)
    index = None if thorough else cache.current(generation)
    cache.forget()  # trusted again only once this publication has been counted
    if index is None:
        index = Generaliser(publisher.k, publisher.taxonomy, publisher.occupations)
        index.load((await vector_population.eligible(session)).items())
        if leaving is not None:
            index.update(leaving, None)
        targets = None  # rebuilt from the database: compare everybody
    else:
        ids = set(changed) - {leaving}
        fresh = await vector_population.eligible(session, sorted(ids))
        targets = set()
        for resident_id in ids:
            targets |= index.update(resident_id, fresh.get(resident_id))
        if leaving is not None:
            targets |= index.update(leaving, None)
    result = await _reconcile(session, publisher, index, targets, now)
    orphans = 0
    if thorough:
        orphans = await _withdraw_orphans(session, publisher, now)
        await _ensure_pseudonym_rows(session, publisher)
    cache.index = index
    cache.generation = await vector_population.advance(session, generation)
    result = PublicationResult(result.updated, result.withdrawn, orphans)
    if not thorough and (result.changed or leaving is not None):
        # The edited residents' suggestions are refreshed at once; residents whose
        # vector moved only through k-anonymity wait for the recomputation this asks
        # for. A thorough pass records nothing: its caller recomputes everything next.
        session.record(VectorsChanged(tuple(sorted(set(changed) - {leaving}))))
    if result.changed:
        log.info(
            "vectors published",
            extra={
                "updated": len(result.updated),
                "withdrawn": len(result.withdrawn),
                "orphans": orphans,
            },
        )
    return result


async def _reconcile(
    session: UnitOfWork,
    publisher: Publisher,
    index: Generaliser,
    targets: set[int] | None,
    now: datetime,
) -> PublicationResult:
    """Compare the index's vectors of ``targets`` (None: everybody) with the stored ones."""
    if targets is None:
        rows = (
            await session.execute(
                select(PublishedVector.resident_id, PublishedVector.digest, PublishedVector.updated)
            )
        ).all()
        candidates = set(index.profiles) | {row.resident_id for row in rows}
    else:
        rows = []
        for chunk in chunks(sorted(targets)):
            rows += (
                await session.execute(
                    select(
                        PublishedVector.resident_id,
                        PublishedVector.digest,
                        PublishedVector.updated,
                    ).where(PublishedVector.resident_id.in_(chunk))
                )
            ).all()
        candidates = targets
    stored = {row.resident_id: (row.digest, row.updated) for row in rows}
    updates: dict[int, tuple[dict[str, Any], datetime]] = {}
    gone: list[int] = []
    for resident_id in sorted(candidates):
        profile = index.generalised(resident_id)
        if profile is None:
            if resident_id in stored:
                gone.append(resident_id)
            continue
        vector = stored_form(profile)
        previous = stored.get(resident_id)
        if previous is None or previous[0] != digest(vector):
            updates[resident_id] = (vector, _next_stamp(now, previous[1] if previous else None))
    await _store_vectors(session, updates, stored, now)
    await _announce_updates(session, publisher, updates, now)
    await _withdraw(session, publisher, gone, now)
    return PublicationResult(tuple(sorted(updates)), tuple(gone))


def _next_stamp(now: datetime, previous: datetime | None) -> datetime:
    """Strictly later than the last ``updated`` of the same resident, even if the clock
    did not move (or moved back): receivers keep only the newest."""
    if previous is not None and previous >= now:
        return previous + timedelta(microseconds=1)
    return now


async def _store_vectors(
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


async def _announce_updates(
    session: UnitOfWork,
    publisher: Publisher,
    updates: dict[int, tuple[dict[str, Any], datetime]],
    now: datetime,
) -> None:
    """An ``Update`` per peer for each changed resident, under the current pseudonym
    (created, or reinstated after a pause, as needed)."""
    peers = await _peers(session)
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
        wire = {**vector, "updated": timestamp(updated)}
        epoch = epochs[resident_id]
        for peer in peers:
            value = pseudonyms.derive(publisher.secret, resident_id, epoch, peer.actor_url)
            row = known.get(value)
            if row is None:
                new_rows.append(
                    {
                        "pseudonym": value,
                        "resident_id": resident_id,
                        "peer_id": peer.id,
                        "epoch": epoch,
                    }
                )
            elif row.withdrawn_at is not None:
                row.withdrawn_at = None  # resumed: back under the same name
            activities.append((peer, update_activity(publisher, peer.actor_url, value, wire, now)))
    if new_rows:
        await session.execute(insert(Pseudonym), new_rows)
    await outbox.enqueue_many(session, activities)


async def _peers(session: AsyncSession) -> list[Peer]:
    return list((await session.scalars(select(Peer).order_by(Peer.id))).all())


async def _withdraw(
    session: UnitOfWork, publisher: Publisher, resident_ids: Sequence[int], now: datetime
) -> None:
    """Paused, incomplete, suspended or leaving: peers drop the vector, matches go."""
    if not resident_ids:
        return
    withdrawn: list[Pseudonym] = []
    for resident_id in resident_ids:
        withdrawn += await pseudonyms.withdraw(session, resident_id, when=now)
    await _send_deletes(session, publisher, withdrawn, now)
    for chunk in chunks(list(resident_ids)):
        for model in (PublishedVector, Suggestion, Twin):
            await session.execute(delete(model).where(model.resident_id.in_(chunk)))


async def _send_deletes(
    session: UnitOfWork, publisher: Publisher, rows: Sequence[Pseudonym], now: datetime
) -> None:
    """Tell each peer that a pseudonym is withdrawn, and end the contacts made under it
    here as the peer ends them there."""
    if not rows:
        return
    by_id = {peer.id: peer for peer in await _peers(session)}
    await outbox.enqueue_many(
        session,
        [
            (
                by_id[row.peer_id],
                delete_activity(publisher, by_id[row.peer_id].actor_url, row.pseudonym, now),
            )
            for row in rows
            if row.peer_id in by_id
        ],
    )
    await remote_consent.pseudonyms_withdrawn(
        session, [publisher.pseudonym_url(row.pseudonym) for row in rows]
    )


async def _withdraw_orphans(session: UnitOfWork, publisher: Publisher, now: datetime) -> int:
    """Current pseudonyms whose resident is gone or has reset since (only possible if a
    change bypassed the hooks): withdraw them as the hooks would have."""
    rows = list(
        (
            await session.scalars(
                select(Pseudonym)
                .outerjoin(Resident, Resident.id == Pseudonym.resident_id)
                .where(
                    Pseudonym.withdrawn_at.is_(None),
                    or_(Resident.id.is_(None), Resident.pseudonym_epoch != Pseudonym.epoch),
                )
            )
        ).all()
    )
    for row in rows:
        row.withdrawn_at = now
    await _send_deletes(session, publisher, rows, now)
    return len(rows)


async def _ensure_pseudonym_rows(session: AsyncSession, publisher: Publisher) -> None:
    """Rows for every published resident towards every peer (a peer added later)."""
    current = (
        await session.execute(
            select(Resident.id, Resident.pseudonym_epoch).join(
                PublishedVector, PublishedVector.resident_id == Resident.id
            )
        )
    ).all()
    for peer in await _peers(session):
        await pseudonyms.ensure_for_peer(
            session, publisher.secret, peer, [(rid, epoch) for rid, epoch in current]
        )


async def reset_pseudonym(session: UnitOfWork, resident: Resident, publisher: Publisher) -> None:
    """Give the resident fresh pseudonyms: peers are told the old ones are gone (``Delete``)
    and, if the resident is published, receive the same vector under the new ones."""
    await vector_population.serialise(session)
    now = utcnow()
    await _send_deletes(
        session, publisher, await pseudonyms.withdraw(session, resident.id, when=now), now
    )
    resident.pseudonym_epoch += 1
    await session.flush()
    session.record(VectorsChanged((resident.id,)))
    vector = await session.get(PublishedVector, resident.id)
    if vector is None:
        return
    vector.updated = _next_stamp(now, vector.updated)
    vector.published_at = now
    await session.flush()
    await _announce_updates(session, publisher, {resident.id: (vector.vector, vector.updated)}, now)
