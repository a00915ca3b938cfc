"""Find people: every profile of a partner city that passes the resident's gates,
filtered and ranked by the same score as the suggestions.

The page must answer in well under a second for a partner city of 54,000, so it never
walks the peer's profiles in Python per request. It scores the resident against the
prepared side the matching engine already keeps per peer (``MatchingState.peers``: the
peer's vectors with the rarity weights of the last computation, see
:class:`matching.refresh.SideIndex`), which gives every score and, through a negative
score, every gate failure in a few array operations. Per generation of that side the
filters get an index of their own (:mod:`node.people.facets`), built once in a thread;
when matching replaces the side (the peer's vectors changed, seconds after the change,
or the periodic run), the list is served from the previous one until the new index is
ready.

Ranking and gates are exactly the suggestions': a profile passes here exactly when
``contacts.gates.refusal`` lets the resident ask it for contact (both look at the
resident's vector as published and the peer resident's as received).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from matching.gates import KindGates
from matching.profile import InterestProfile
from matching.refresh import SideIndex
from matching.score import SCORE_UNITS, units_to_score
from node.matches.compute import prepare_index
from node.matches.state import MatchingState, PeerIndex
from node.matches.twin_view import MatchView, State
from node.models import Peer, Profile, PublishedVector, Resident, utcnow
from node.people.facets import Facets, Filters, IndexArray
from node.runtime.db import Database
from node.vectors.stored import stored_profile

log = logging.getLogger(__name__)

PAGE_SIZE = 20
STALE_FACTOR = 2.0
"""A side older than this many recompute intervals is rebuilt for the page (a process
without the matching worker); a younger one is the worker's to replace."""

_VIEWER = "urn:zwilling:viewer"


@dataclass
class PeopleDirectory:
    """Per peer the side the list is served from, with its facets; one per running app.

    The first request for a peer waits for the side and its facets. After that, when the
    matching engine has replaced the side (or it grew too old), the old one keeps being
    served while the new facets are built in the background: a recomputation never
    makes a resident wait seconds for the page.
    """

    current: dict[int, tuple[PeerIndex, Facets]] = field(default_factory=dict)
    building: dict[int, asyncio.Task[None]] = field(default_factory=dict)
    locks: dict[int, asyncio.Lock] = field(default_factory=dict)

    async def prepared(
        self, db: Database, state: MatchingState, peer_id: int
    ) -> tuple[PeerIndex, Facets]:
        held = self.current.get(peer_id)
        if held is None:
            async with self.locks.setdefault(peer_id, asyncio.Lock()):
                if peer_id not in self.current:
                    await self._build(db, state, peer_id)
            return self.current[peer_id]
        side = state.peers.get(peer_id)
        outdated = side is not held[0] or _too_old(held[0], state)
        if outdated and (peer_id not in self.building or self.building[peer_id].done()):
            task = asyncio.create_task(self._build(db, state, peer_id))
            task.add_done_callback(_log_failure)
            self.building[peer_id] = task
        return held

    async def _build(self, db: Database, state: MatchingState, peer_id: int) -> None:
        side = state.peers.get(peer_id)
        if side is None or _too_old(side, state):
            side = await prepare_index(db, state, peer_id)
        facets = await asyncio.to_thread(Facets.build, side, state.taxonomy)
        self.current[peer_id] = (side, facets)

    async def close(self) -> None:
        """Stop builds still running (the app is shutting down)."""
        for task in self.building.values():
            task.cancel()
        await asyncio.gather(*self.building.values(), return_exceptions=True)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("building the people list failed", exc_info=task.exception())


def _too_old(prepared: PeerIndex, state: MatchingState) -> bool:
    age = (utcnow() - prepared.computed_at).total_seconds()
    return age > STALE_FACTOR * state.max_index_age


@dataclass(frozen=True, slots=True)
class PartnerCity:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class PeoplePage:
    """One page of the list, or the state that keeps the resident from seeing one."""

    state: State
    cities: tuple[PartnerCity, ...] = ()
    city: PartnerCity | None = None
    people: tuple[MatchView, ...] = ()
    total: int = 0
    page: int = 1
    pages: int = 1


async def viewer_state(
    session: AsyncSession, resident: Resident
) -> tuple[State, InterestProfile | None, tuple[PartnerCity, ...]]:
    """Why the resident cannot look (the twin page's states), or their published vector
    and the partner cities."""
    profile = await session.get(Profile, resident.id)
    if profile is None or not profile.completed:
        return "incomplete", None, ()
    if profile.paused:
        return "paused", None, ()
    peers = (await session.scalars(select(Peer).order_by(Peer.name, Peer.id))).all()
    if not peers:
        return "no_peers", None, ()
    published = await session.get(PublishedVector, resident.id)
    if published is None:
        return "withheld", None, ()
    cities = tuple(
        PartnerCity(peer.id, peer.name or peer.actor_url.removesuffix("/actor")) for peer in peers
    )
    return "ready", stored_profile(published.vector, _VIEWER), cities


def ranked(
    index: SideIndex,
    facets: Facets,
    viewer: InterestProfile,
    kind_gates: KindGates,
    filters: Filters,
    *,
    first: int,
    hidden: Iterable[str] = (),
) -> tuple[IndexArray, int, NDArray[np.int32]]:
    """The positions of the ``first`` best of everyone who passes the gates and the
    filters, best score first (ties by pseudonym, as in the suggestions), how many pass
    in all, and everyone's score units.

    Only the first pages are sorted: one key per candidate (score, then position)
    and a partition, instead of sorting a whole city for twenty cards."""
    units = index.units_for(viewer, kind_gates)
    keep = units > 0
    chosen = facets.mask(filters, units.size)
    if chosen is not None:
        keep &= chosen
    for actor in hidden:
        position = facets.positions.get(actor)
        if position is not None:
            keep[position] = False
    candidates = np.flatnonzero(keep)
    # Scores are below 2**24 and positions below 2**31: one int64 key orders both.
    key = ((SCORE_UNITS - units[candidates].astype(np.int64)) << 32) | candidates
    if 0 < first < key.size:
        key = key[np.argpartition(key, first - 1)[:first]]
    key.sort()
    best: IndexArray = (key & 0xFFFFFFFF).astype(np.intp)
    return best, int(candidates.size), units


async def people_page(
    db: Database,
    state: MatchingState,
    directory: PeopleDirectory,
    resident: Resident,
    lang: str,
    *,
    filters: Filters,
    page: int = 1,
    city_id: int | None = None,
    hidden: Iterable[str] = (),
) -> PeoplePage:
    """Page ``page`` (from 1; clamped to the last) of the partner city ``city_id`` (the
    first one when unknown), without the pseudonyms in ``hidden``."""
    async with db.read() as session:
        viewer_at, viewer, cities = await viewer_state(session, resident)
    if viewer is None:
        return PeoplePage(viewer_at)
    city = next((c for c in cities if c.id == city_id), cities[0])
    prepared, facets = await directory.prepared(db, state, city.id)
    page = max(page, 1)
    order, total, units = ranked(
        prepared.index,
        facets,
        viewer,
        state.settings.kind_gates,
        filters,
        first=page * PAGE_SIZE,
        hidden=hidden,
    )
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(page, pages)
    shown: list[int] = order[(page - 1) * PAGE_SIZE : page * PAGE_SIZE].tolist()
    people = _views(
        [prepared.index.residents[i] for i in shown], [int(units[i]) for i in shown], viewer, lang
    )
    return PeoplePage("ready", cities, city, people, total, page, pages)


def _views(
    others: Sequence[InterestProfile], units: Sequence[int], viewer: InterestProfile, lang: str
) -> tuple[MatchView, ...]:
    return tuple(
        MatchView.of(viewer, other, units_to_score(value), lang, twin=False)
        for other, value in zip(others, units, strict=True)
    )
