"""The thorough publication pass: everybody's vector compared and republished where it
moved, run by the matching worker at start-up and with every periodic recompute.

It repairs what a crash or a change that bypassed the hooks left behind, and creates
missing pseudonym rows for peers added later. At city scale it must not hold the event
loop or the write lock for long: ``_thorough`` reads and generalises the population,
this module writes the differences in short units.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from node.models import PublishedVector, utcnow
from node.runtime.db import Database, UnitOfWork
from node.vectors import _announcement, _thorough, _withdrawal
from node.vectors import _population as vector_population
from node.vectors.activities import Publisher
from node.vectors.publication import PublicationResult, publish_changes

log = logging.getLogger(__name__)


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
    await _announcement.store_vectors(session, updates, stored, now)
    await _announcement.announce_updates(session, publisher, updates, now)
    suspended = await _withdrawal.suspended(session, set(gone))
    await _withdrawal.withdraw(session, publisher, [r for r in gone if r not in suspended], now)
    for resident_id in sorted(suspended):
        await _withdrawal.retire(session, publisher, resident_id, now)
    return PublicationResult(tuple(sorted(updates)), tuple(sorted(gone)))
