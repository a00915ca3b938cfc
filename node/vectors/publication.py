"""Publishing this node's residents to its peers: generalise, compare with what peers
were told, and queue exactly the ``Update``s and ``Delete``s that make them agree.

k-anonymity counts the whole published population, so one resident's edit can change
another resident's vector (the fifth cyclist lets "cycling" through for all five).
A change therefore goes through the generalisation index, which names everybody the
change touches, and all of them are republished if their vector moved. A *thorough*
pass (at start-up and with every periodic recompute) compares everybody instead; it
also repairs anything a crash or a change that bypassed the hooks left behind.

``publish_changes`` runs in the caller's transaction: the outbox rows commit with the
change. The thorough pass the matching worker runs, in short units, is
``republication.republish``; ``thorough=True`` here is the same in one unit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node import pseudonyms
from node.models import PublishedVector, Resident, utcnow
from node.runtime.db import UnitOfWork
from node.vectors import _announcement, _withdrawal
from node.vectors import _population as vector_population
from node.vectors._generalisation import Generaliser
from node.vectors._population import chunks, digest
from node.vectors.activities import Publisher
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
    await _announcement.store_vectors(session, updates, stored, now)
    await _announcement.announce_updates(session, publisher, updates, now)
    # A suspended account can no longer be used: for peers it is gone, as if deleted.
    suspended = await _withdrawal.suspended(session, (set(gone) | set(changed)) - {leaving})
    await _withdrawal.withdraw(
        session, publisher, [rid for rid in gone if rid not in suspended], now
    )
    leavers = sorted(suspended | ({leaving} if leaving is not None else set()))
    for resident_id in leavers:
        await _withdrawal.retire(session, publisher, resident_id, now)
    return PublicationResult(tuple(sorted(updates)), tuple(sorted(set(gone) | set(leavers))))


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
    await _announcement.announce_updates(
        session, publisher, {resident.id: (vector.vector, vector.updated)}, now
    )
