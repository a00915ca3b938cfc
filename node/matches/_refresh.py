"""Refreshing a resident's suggestions right after their published vector changed.

The publication records ``VectorsChanged`` on the unit of work that saved the
profile; once that unit has committed, the matches feature calls
:func:`refresh_residents` (the new vector is visible then, and the computation
holds no write lock while it scores). The page the resident sees next is already
up to date.

A refresh scores one resident against the prepared side of each peer, with the rarity
weights of the last full computation: tens of milliseconds, whatever the population.
It replaces the resident's rows of the generation readers see; a full computation
writing its next generation meanwhile keeps what it computed, and the poke that comes
with every edit brings a computation that starts from the new vector.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, insert, select

from matching.refresh import suggestions_for
from node import pseudonyms
from node.matches._prepare import prepare_index
from node.matches._sides import local_vectors
from node.matches.state import MatchingState, PeerIndex
from node.models import MatchGeneration, Peer, RemoteProfile, Suggestion, utcnow
from node.runtime.db import Database
from node.vectors.stored import stored_profile

log = logging.getLogger(__name__)


async def _prepared(db: Database, state: MatchingState) -> dict[int, PeerIndex]:
    """Every peer's prepared side, built here if this process has none or an old one."""
    async with db.read() as session:
        peer_ids = list((await session.scalars(select(Peer.id))).all())
    now = utcnow()
    for peer_id in peer_ids:
        current = state.peers.get(peer_id)
        if current is None or (now - current.computed_at).total_seconds() > state.max_index_age:
            await prepare_index(db, state, peer_id)
    return {peer_id: state.peers[peer_id] for peer_id in peer_ids if peer_id in state.peers}


async def refresh_residents(
    db: Database, state: MatchingState, resident_ids: Iterable[int]
) -> None:
    """Recompute the suggestions of just these residents against every peer."""
    ids = sorted(set(resident_ids))
    if not ids:
        return
    started = time.perf_counter()
    prepared = await _prepared(db, state)
    async with db.write() as session:
        for peer_id, side in prepared.items():
            now = utcnow()
            shown = await session.scalar(
                select(MatchGeneration.current).where(MatchGeneration.peer_id == peer_id)
            )
            generation = shown or 0
            fresh: list[dict[str, Any]] = []
            for value, resident_id, vector in await session.execute(local_vectors(peer_id, ids)):
                profile = stored_profile(vector, pseudonyms.actor_url(state.base_url, value))
                found = suggestions_for(profile, side.index, side.weights, state.settings)
                fresh.extend(
                    {
                        "resident_id": resident_id,
                        "peer_id": peer_id,
                        "remote_profile_id": side.remote_ids[suggestion.other_id],
                        "rank": rank,
                        "score": float(suggestion.score),
                        "computed_at": now,
                        "generation": generation,
                    }
                    for rank, suggestion in enumerate(found)
                )
            await session.execute(
                delete(Suggestion).where(
                    Suggestion.peer_id == peer_id,
                    Suggestion.resident_id.in_(ids),
                    Suggestion.generation == generation,
                )
            )
            wanted = {row["remote_profile_id"] for row in fresh}
            alive = (
                set(
                    (
                        await session.scalars(
                            select(RemoteProfile.id).where(RemoteProfile.id.in_(wanted))
                        )
                    ).all()
                )
                if wanted
                else set()
            )
            kept = [row for row in fresh if row["remote_profile_id"] in alive]
            if kept:
                await session.execute(insert(Suggestion), kept)
    log.info(
        "suggestions refreshed",
        extra={"residents": len(ids), "ms": round((time.perf_counter() - started) * 1000, 1)},
    )
