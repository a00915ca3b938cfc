"""Publishing this node's residents to its peers: generalise, compare with what peers
were told, and queue exactly the ``Update``s and ``Delete``s that make them agree.

k-anonymity counts the whole published population, so one resident's edit can change
another resident's vector (the fifth cyclist lets "cycling" through for all five).
A change therefore goes through the generalisation index, which names everybody the
change touches, and all of them are republished if their vector moved. A *thorough*
pass (at start-up and with every periodic recompute) compares everybody instead; it
also repairs anything a crash or a change that bypassed the hooks left behind.

``publish_changes`` runs in the caller's transaction: the outbox rows commit with the
change. ``republish`` is the thorough pass in short units (see ``_thorough``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocabulary import UpdateProfile
from node import pseudonyms
from node.federation import outbox
from node.models import Peer, Pseudonym, PublishedVector, Resident, utcnow
from node.runtime.db import Database, UnitOfWork
from node.vectors import _population as vector_population
from node.vectors import _thorough, _withdrawal
from node.vectors._generalisation import Generaliser
from node.vectors._population import chunks, digest
from node.vectors.activities import Publisher, update_activity
from node.vectors.stored import stored_form

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

    ``changed`` are residents whose profile, pause switch or status just changed (a
    resident who no longer takes part has the profile withdrawn, contacts continue);
    ``leaving`` is a resident about to be deleted (the pseudonym actors are deleted).
    ``thorough`` compares everybody, withdraws what anything that bypassed the hooks
    left published, and creates missing pseudonym rows for peers added later.
    """
    await vector_population.serialise(session)
    changed = tuple(changed)
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
    result = await _reconcile(session, publisher, index, targets, now, leaving, changed)
    orphans = 0
    if thorough:
        orphans = await _withdrawal.withdraw_orphans(session, publisher, now)
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


class _Stale(Exception):
    """The population changed under a thorough pass since it was read."""


async def republish(database: Database, publisher: Publisher) -> PublicationResult:
    """The thorough pass (what ``publish_changes(thorough=True)`` does) without holding
    the event loop or the write lock for long: read in a read unit, generalise in a
    worker thread, write the differences in units of ``_thorough.CHUNK`` residents.

    Each unit reconciles its residents completely (vector rows and the outbox rows that
    announce them commit together), so a crash between units leaves what the next pass
    repairs. A publication through the hooks in between (it advances the generation), or
    a chunk's profile rows changed since they were read, makes the generalisation stale:
    the pass starts again, and after a few attempts runs in one unit as before."""
    async with database.write() as session:
        await vector_population.serialise(session)
        await vector_population.generation(session)  # the state row exists from here on
    updated: list[int] = []
    withdrawn: list[int] = []
    for _ in range(3):
        async with database.read() as session:
            snapshot = await _thorough.read(session)
        outcome = await asyncio.to_thread(_thorough.generalise, publisher, snapshot.raw)
        try:
            work = outcome.differing(snapshot)
            size = _thorough.CHUNK
            for chunk in (work[i : i + size] for i in range(0, len(work), size)):
                async with database.write() as session:
                    done = await _reconcile_chunk(session, publisher, snapshot, outcome, chunk)
                updated += done.updated
                withdrawn += done.withdrawn
            after = 0
            while True:
                async with database.write() as session:
                    await _current(session, snapshot)
                    page = await _thorough.published_page(session, after)
                    if not page:
                        break
                    await _thorough.ensure_pseudonym_rows(session, publisher, page)
                after = page[-1][0]
            async with database.write() as session:
                await _current(session, snapshot)
                orphans = await _withdrawal.withdraw_orphans(session, publisher, utcnow())
                assert snapshot.generation is not None
                generation = await vector_population.advance(session, snapshot.generation)
        except _Stale:
            continue
        publisher.population.index = outcome.index
        publisher.population.generation = generation
        result = PublicationResult(tuple(sorted(updated)), tuple(sorted(withdrawn)), orphans)
        if result.changed:
            log.info(
                "vectors published",
                extra={"updated": len(updated), "withdrawn": len(withdrawn), "orphans": orphans},
            )
        return result
    async with database.write() as session:
        return await publish_changes(session, publisher, thorough=True)


async def _current(session: UnitOfWork, snapshot: _thorough.Snapshot) -> None:
    """Take the publication lock and check no publication happened since the read."""
    await vector_population.serialise(session)
    if await vector_population.generation(session) != snapshot.generation:
        raise _Stale


async def _reconcile_chunk(
    session: UnitOfWork,
    publisher: Publisher,
    snapshot: _thorough.Snapshot,
    outcome: _thorough.Outcome,
    chunk: Sequence[int],
) -> PublicationResult:
    """One unit of a thorough pass: these residents' stored vectors made to agree with
    the generalisation, re-checked against the rows as they are now."""
    await _current(session, snapshot)
    fresh = await vector_population.eligible(session, chunk)
    if any(fresh.get(rid) != snapshot.raw.get(rid) for rid in chunk):
        raise _Stale
    now = utcnow()
    rows = (
        await session.execute(
            select(
                PublishedVector.resident_id, PublishedVector.digest, PublishedVector.updated
            ).where(PublishedVector.resident_id.in_(chunk))
        )
    ).all()
    stored = {row.resident_id: (row.digest, row.updated) for row in rows}
    updates: dict[int, tuple[dict[str, Any], datetime]] = {}
    gone: list[int] = []
    for resident_id in chunk:
        wanted = outcome.desired.get(resident_id)
        previous = stored.get(resident_id)
        if wanted is None:
            if previous is not None:
                gone.append(resident_id)
        elif previous is None or previous[0] != wanted[1]:
            updates[resident_id] = (wanted[0], now)
    await _store_vectors(session, updates, stored, now)
    await _announce_updates(session, publisher, updates, now)
    suspended = await _suspended(session, set(gone))
    await _withdrawal.withdraw(session, publisher, [r for r in gone if r not in suspended], now)
    for resident_id in sorted(suspended):
        await _withdrawal.retire(session, publisher, resident_id, now)
    return PublicationResult(tuple(sorted(updates)), tuple(sorted(gone)))


async def _reconcile(
    session: UnitOfWork,
    publisher: Publisher,
    index: Generaliser,
    targets: set[int] | None,
    now: datetime,
    leaving: int | None = None,
    changed: Iterable[int] = (),
) -> PublicationResult:
    """Compare the index's vectors of ``targets`` (None: everybody) with the stored ones.
    The actors of the ``leaving`` resident, and of ``changed`` residents now suspended,
    are retired, whether published or not."""
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
    for resident_id in sorted(candidates - {leaving}):
        profile = index.generalised(resident_id)
        if profile is None:
            if resident_id in stored:
                gone.append(resident_id)
            continue
        vector = stored_form(profile)
        previous = stored.get(resident_id)
        if previous is None or previous[0] != digest(vector):
            updates[resident_id] = (vector, now)
    await _store_vectors(session, updates, stored, now)
    await _announce_updates(session, publisher, updates, now)
    # A suspended account can no longer be used: for peers it is gone, as if deleted.
    suspended = await _suspended(session, (set(gone) | set(changed)) - {leaving})
    await _withdrawal.withdraw(
        session, publisher, [rid for rid in gone if rid not in suspended], now
    )
    leavers = sorted(suspended | ({leaving} if leaving is not None else set()))
    for resident_id in leavers:
        await _withdrawal.retire(session, publisher, resident_id, now)
    return PublicationResult(tuple(sorted(updates)), tuple(sorted(set(gone) | set(leavers))))


async def _suspended(session: AsyncSession, resident_ids: set[int]) -> set[int]:
    """Those of ``resident_ids`` who are suspended and still have an actor at a peer."""
    found: set[int] = set()
    for chunk in chunks(sorted(resident_ids)):
        found.update(
            await session.scalars(
                select(Resident.id)
                .join(Pseudonym, Pseudonym.resident_id == Resident.id)
                .where(
                    Resident.id.in_(chunk),
                    Resident.status == "suspended",
                    Pseudonym.retired_at.is_(None),
                )
                .distinct()
            )
        )
    return found


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


async def _ensure_pseudonym_rows(session: AsyncSession, publisher: Publisher) -> None:
    """Rows for every published resident towards every peer (a peer added later)."""
    current = (
        await session.execute(
            select(Resident.id, Resident.pseudonym_epoch).join(
                PublishedVector, PublishedVector.resident_id == Resident.id
            )
        )
    ).all()
    for peer in await _withdrawal.peers(session):
        await pseudonyms.ensure_for_peer(
            session, publisher.secret, peer, [(rid, epoch) for rid, epoch in current]
        )


async def reset_pseudonym(session: UnitOfWork, resident: Resident, publisher: Publisher) -> None:
    """Give the resident fresh pseudonyms: peers are told the profile under the old ones
    is withdrawn (``Delete`` of the profile) and, if the resident is published, receive
    it under the new ones as a new profile. The old actors stay for the contacts made
    under them, which continue there."""
    await vector_population.serialise(session)
    now = utcnow()
    await _withdrawal.send_deletes(
        session,
        publisher,
        await pseudonyms.withdraw(session, resident.id, when=now),
        now,
        actor_deleted=False,
    )
    resident.pseudonym_epoch += 1
    await session.flush()
    session.record(VectorsChanged((resident.id,)))
    vector = await session.get(PublishedVector, resident.id)
    if vector is None:
        return
    vector.updated = now
    vector.published_at = now
    await session.flush()
    await _announce_updates(session, publisher, {resident.id: (vector.vector, vector.updated)}, now)
