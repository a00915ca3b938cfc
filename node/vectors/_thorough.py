"""Reading and generalising the whole population for the thorough publication pass,
without holding the event loop or the write lock for long.

At city scale generalising the whole population takes seconds to minutes. Done inside
one write unit on the event loop it stalled every page and made other writers give up
("database is locked"). Here the population is read in a read unit, in pages so that no
single step holds the loop, and generalised in a worker thread; the caller then writes
the differences in short write units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select

from matching.profile import InterestProfile
from node import pseudonyms
from node.models import Pseudonym, PublicationState, PublishedVector, Resident
from node.runtime.db import UnitOfWork
from node.vectors import _population as vector_population
from node.vectors import _withdrawal
from node.vectors._generalisation import Generaliser
from node.vectors._population import digest
from node.vectors.activities import Publisher
from node.vectors.stored import stored_form

CHUNK = 500
"""Residents per write unit: a few hundred rows and activities, tens of milliseconds."""
PAGE = 500
"""Rows per read step, so that decoding them never holds the loop for long."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the pass read in one consistent read unit."""

    generation: int | None
    raw: dict[int, InterestProfile]
    stored: dict[int, str]
    """Digest of each published vector."""


@dataclass(frozen=True, slots=True)
class Outcome:
    index: Generaliser
    desired: dict[int, tuple[dict[str, Any], str]]
    """Each resident to be published: the stored vector and its digest."""

    def differing(self, snapshot: Snapshot) -> list[int]:
        """Residents whose stored vector is missing, different or to be withdrawn."""
        moved = {
            rid for rid, (_, value) in self.desired.items() if snapshot.stored.get(rid) != value
        }
        return sorted(moved | (set(snapshot.stored) - set(self.desired)))


async def read(session: UnitOfWork) -> Snapshot:
    generation = await session.scalar(
        select(PublicationState.generation).where(PublicationState.id == 1)
    )
    raw: dict[int, InterestProfile] = {}
    after = 0
    while page := await vector_population.eligible_page(session, after, PAGE):
        raw.update(page)
        after = max(page)
    stored: dict[int, str] = {}
    after = 0
    while rows := (
        await session.execute(
            select(PublishedVector.resident_id, PublishedVector.digest)
            .where(PublishedVector.resident_id > after)
            .order_by(PublishedVector.resident_id)
            .limit(PAGE * 5)
        )
    ).all():
        stored.update({rid: value for rid, value in rows})
        after = rows[-1][0]
    return Snapshot(generation, raw, stored)


def generalise(publisher: Publisher, raw: dict[int, InterestProfile]) -> Outcome:
    """The CPU-heavy part, run in a worker thread on objects nothing else touches."""
    index = Generaliser(publisher.k, publisher.taxonomy, publisher.occupations)
    index.load(raw.items())
    desired: dict[int, tuple[dict[str, Any], str]] = {}
    for resident_id in index.profiles:
        profile = index.generalised(resident_id)
        if profile is not None:
            vector = stored_form(profile)
            desired[resident_id] = (vector, digest(vector))
    return Outcome(index, desired)


async def published_page(session: UnitOfWork, after: int) -> list[tuple[int, int]]:
    """``(resident id, epoch)`` of up to ``CHUNK * 4`` published residents above ``after``."""
    rows = await session.execute(
        select(Resident.id, Resident.pseudonym_epoch)
        .join(PublishedVector, PublishedVector.resident_id == Resident.id)
        .where(Resident.id > after)
        .order_by(Resident.id)
        .limit(CHUNK * 4)
    )
    return [(rid, epoch) for rid, epoch in rows]


async def ensure_pseudonym_rows(
    session: UnitOfWork, publisher: Publisher, residents: Sequence[tuple[int, int]]
) -> None:
    """Rows for these published residents towards every peer (a peer added later);
    like ``pseudonyms.ensure_for_peer`` but reading only these residents' rows."""
    ids = [rid for rid, _ in residents]
    for peer in await _withdrawal.peers(session):
        wanted = {
            pseudonyms.derive(publisher.secret, rid, epoch, peer.actor_url): (rid, epoch)
            for rid, epoch in residents
        }
        existing = set(
            await session.scalars(
                select(Pseudonym.pseudonym).where(
                    Pseudonym.peer_id == peer.id, Pseudonym.resident_id.in_(ids)
                )
            )
        )
        missing = [
            {"pseudonym": value, "resident_id": rid, "peer_id": peer.id, "epoch": epoch}
            for value, (rid, epoch) in wanted.items()
            if value not in existing
        ]
        if missing:
            await session.execute(insert(Pseudonym), missing)
