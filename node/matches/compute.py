"""Matching this node's residents with each peer's, from the shared vectors only.

The local side is read from ``published_vectors`` under the pseudonyms towards the
peer, i.e. exactly what the peer holds about this node, and the remote side from
``remote_profiles``, exactly what the peer published. The peer does the same with the
roles swapped, so both reach the same scores and the same twin pairs.

Per peer the prepared remote side and the rarity weights stay in memory after each
full computation, so that a resident's edit refreshes their suggestions at once
(:mod:`node.matches._refresh`); the next full computation settles twins and weights.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from matching.batch import match_pair
from matching.profile import InterestProfile
from matching.refresh import SideIndex
from matching.results import PairResult
from matching.score import RarityWeights, rarity_weights, score
from matching.settings import MatchSettings
from node import pseudonyms
from node.matches.state import MatchingState, PeerIndex
from node.models import (
    Peer,
    Pseudonym,
    PublishedVector,
    RemoteProfile,
    Resident,
    Suggestion,
    Twin,
    utcnow,
)
from node.runtime.db import Database
from node.vectors.stored import stored_profile

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Sides:
    local: list[InterestProfile]
    residents: dict[str, int]  # pseudonym actor URL -> resident id
    remote: list[InterestProfile]
    remote_ids: dict[str, int]  # peer actor URL -> remote_profiles.id


def local_vectors(peer_id: int, resident_ids: Sequence[int] | None = None) -> Any:
    """Pseudonym, resident and published vector of local residents towards a peer."""
    statement = (
        select(Pseudonym.pseudonym, Pseudonym.resident_id, PublishedVector.vector)
        .join(PublishedVector, PublishedVector.resident_id == Pseudonym.resident_id)
        .join(Resident, Resident.id == Pseudonym.resident_id)
        .where(
            Pseudonym.peer_id == peer_id,
            Pseudonym.withdrawn_at.is_(None),
            Pseudonym.epoch == Resident.pseudonym_epoch,
        )
    )
    if resident_ids is not None:
        statement = statement.where(Pseudonym.resident_id.in_(resident_ids))
    return statement.order_by(Pseudonym.pseudonym)


async def load_sides(session: AsyncSession, base_url: str, peer_id: int) -> Sides:
    local: list[InterestProfile] = []
    residents: dict[str, int] = {}
    for value, resident_id, vector in await session.execute(local_vectors(peer_id)):
        actor = pseudonyms.actor_url(base_url, value)
        local.append(stored_profile(vector, actor))
        residents[actor] = resident_id
    remote_rows = await session.execute(
        select(RemoteProfile.id, RemoteProfile.actor_url, RemoteProfile.vector)
        .where(RemoteProfile.peer_id == peer_id)
        .order_by(RemoteProfile.actor_url)
    )
    remote: list[InterestProfile] = []
    remote_ids: dict[str, int] = {}
    for row_id, actor, vector in remote_rows:
        remote.append(stored_profile(vector, actor))
        remote_ids[actor] = row_id
    return Sides(local, residents, remote, remote_ids)


@dataclass(frozen=True, slots=True)
class RecomputeResult:
    peer_id: int
    local: int
    remote: int
    suggestions: int
    twins: int
    seconds: float


async def recompute_peer(db: Database, state: MatchingState, peer_id: int) -> RecomputeResult:
    """Full computation for one peer: suggestions and twins of every local resident."""
    started = time.perf_counter()
    async with db.read() as session:
        sides = await load_sides(session, state.base_url, peer_id)
    computed_at = utcnow()
    result, index = await asyncio.to_thread(_compute, sides, state)
    suggestion_rows: list[dict[str, Any]] = []
    for actor, found in result.suggestions.items():
        resident_id = sides.residents.get(actor)
        if resident_id is None:
            continue  # a remote resident's own list: the peer stores that one
        for rank, suggestion in enumerate(found):
            suggestion_rows.append(
                {
                    "resident_id": resident_id,
                    "peer_id": peer_id,
                    "remote_profile_id": sides.remote_ids[suggestion.other_id],
                    "rank": rank,
                    "score": float(suggestion.score),
                    "computed_at": computed_at,
                }
            )
    twin_rows = _twin_rows(sides, result, state.settings, peer_id, computed_at)
    async with db.write() as session:
        await _store(session, peer_id, suggestion_rows, twin_rows)
    state.peers[peer_id] = PeerIndex(index, result.weights, sides.remote_ids, computed_at)
    outcome = RecomputeResult(
        peer_id,
        len(sides.local),
        len(sides.remote),
        len(suggestion_rows),
        len(twin_rows),
        round(time.perf_counter() - started, 3),
    )
    log.info(
        "matches computed",
        extra={
            "peer_id": peer_id,
            "local": outcome.local,
            "remote": outcome.remote,
            "suggestions": outcome.suggestions,
            "twins": outcome.twins,
            "seconds": outcome.seconds,
        },
    )
    return outcome


def _compute(sides: Sides, state: MatchingState) -> tuple[PairResult, SideIndex]:
    taxonomy = state.taxonomy
    result = match_pair(
        sides.local,
        sides.remote,
        codes=taxonomy.codes,
        parent=taxonomy.parent,
        settings=state.settings,
    )
    return result, SideIndex.build(sides.remote, result.weights)


def _twin_rows(
    sides: Sides,
    result: PairResult,
    settings: MatchSettings,
    peer_id: int,
    computed_at: datetime,
) -> list[dict[str, Any]]:
    """Twin pairs of local residents; the score is recomputed exactly for the pair (a
    twin need not be among the shown suggestions)."""
    by_id = {p.id: p for p in (*sides.local, *sides.remote)}
    rows = []
    for actor, twins in result.twins.items():
        resident_id = sides.residents.get(actor)
        if resident_id is None:
            continue
        for other in twins:
            rows.append(
                {
                    "resident_id": resident_id,
                    "peer_id": peer_id,
                    "remote_profile_id": sides.remote_ids[other],
                    "score": score(by_id[actor], by_id[other], result.weights, settings.kind_gates),
                    "computed_at": computed_at,
                }
            )
    return rows


async def _store(
    session: AsyncSession,
    peer_id: int,
    suggestion_rows: list[dict[str, Any]],
    twin_rows: list[dict[str, Any]],
) -> None:
    """Replace the peer's results; rows whose resident or remote profile vanished while
    computing are left out (the foreign keys would refuse them anyway)."""
    residents = set((await session.scalars(select(PublishedVector.resident_id))).all())
    remote = set(
        (
            await session.scalars(select(RemoteProfile.id).where(RemoteProfile.peer_id == peer_id))
        ).all()
    )

    def alive(row: dict[str, Any]) -> bool:
        return row["resident_id"] in residents and row["remote_profile_id"] in remote

    await session.execute(delete(Suggestion).where(Suggestion.peer_id == peer_id))
    await session.execute(delete(Twin).where(Twin.peer_id == peer_id))
    for rows, model in ((suggestion_rows, Suggestion), (twin_rows, Twin)):
        kept = [row for row in rows if alive(row)]
        for start in range(0, len(kept), 5000):
            await session.execute(insert(model), kept[start : start + 5000])


async def peer_ids(session: AsyncSession) -> list[int]:
    return list((await session.scalars(select(Peer.id).order_by(Peer.id))).all())


async def recompute_all(
    db: Database,
    state: MatchingState,
    only: Iterable[int] | None = None,
) -> list[RecomputeResult]:
    async with state.lock:
        async with db.read() as session:
            ids = await peer_ids(session)
        wanted = set(ids) if only is None else set(only) & set(ids)
        return [await recompute_peer(db, state, peer_id) for peer_id in sorted(wanted)]


async def prepare_index(db: Database, state: MatchingState, peer_id: int) -> PeerIndex:
    """The prepared side of a peer without a full computation, for a process that does
    not run the matching worker itself (``zwilling run --no-workers``). Its weights are
    those a full computation over the same vectors would use."""
    async with db.read() as session:
        sides = await load_sides(session, state.base_url, peer_id)
    taxonomy = state.taxonomy

    def build() -> tuple[SideIndex, RarityWeights]:
        weights = rarity_weights([*sides.local, *sides.remote], taxonomy.codes, taxonomy.parent)
        return SideIndex.build(sides.remote, weights), weights

    index, weights = await asyncio.to_thread(build)
    prepared = PeerIndex(index, weights, sides.remote_ids, utcnow())
    state.peers[peer_id] = prepared
    return prepared
