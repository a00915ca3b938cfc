"""Matching this node's residents with each peer's, from the shared vectors only.

The local side is read from ``published_vectors`` under the pseudonyms towards the
peer, i.e. exactly what the peer holds about this node, and the remote side from
``remote_profiles``, exactly what the peer published. The peer does the same with the
roles swapped, so both reach the same scores and the same twin pairs.

A full computation of two whole cities reads 230,000 vectors, matches them and writes
1.8 million rows while the node keeps serving pages, so the event loop only moves data:
the vectors are read undecoded (:mod:`node.matches._sides`), decoded, matched and laid
out as rows in a worker thread or a process of its own (:mod:`node.matches._job`,
:mod:`node.matches._offload`), and written in bulk as a new generation that replaces
the shown one in a single step (:mod:`node.matches._store`).

Per peer the prepared remote side and the rarity weights stay in memory after each
full computation, so that a resident's edit refreshes their suggestions at once
(:mod:`node.matches._refresh`); the next full computation settles twins and weights.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node.matches import _job
from node.matches._offload import offloaded
from node.matches._prepare import prepare_index
from node.matches._refresh import refresh_residents
from node.matches._sides import load_stored, local_vectors
from node.matches._store import SQLITE_BATCH, drop_hidden, start_generation, write_generation
from node.matches.state import MatchingState, PeerIndex
from node.models import Peer, PublishedVector, utcnow
from node.runtime.db import Database

__all__ = [
    "RecomputeResult",
    "local_vectors",
    "peer_ids",
    "prepare_index",
    "recompute_all",
    "recompute_peer",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecomputeResult:
    peer_id: int
    local: int
    remote: int
    suggestions: int
    twins: int
    seconds: float
    """The whole run, the removal of the previous results included."""
    load_s: float = 0.0
    match_s: float = 0.0
    """Everything away from the loop: decoding, the engine, laying out the rows."""
    write_s: float = 0.0
    """Until the new results were shown."""
    cleanup_s: float = 0.0
    """Removing the previous results (and what a failed run left)."""
    offload: str = "thread"
    parts: dict[str, float] = field(default_factory=dict)
    """The matching's own parts (decoding, engine, rows), as measured where it ran."""


async def recompute_peer(db: Database, state: MatchingState, peer_id: int) -> RecomputeResult:
    """Full computation for one peer: suggestions and twins of every local resident."""
    started = time.perf_counter()
    sqlite = db.engine.dialect.name == "sqlite"
    cleaned = await drop_hidden(db, peer_id)  # what a run that died left behind
    generation = await start_generation(db, peer_id)
    computed_at = utcnow()
    async with db.read() as session:
        sides = await load_stored(session, peer_id)
    loaded = time.perf_counter()
    batch = SQLITE_BATCH if sqlite else 0
    job = await asyncio.to_thread(sides.job, state.base_url, state.taxonomy, state.settings, batch)
    output, where = await offloaded(_job.run, job, in_process=sides.size >= state.process_from)
    matched = time.perf_counter()
    suggestions, twins = await write_generation(db, peer_id, generation, computed_at, output)
    state.peers[peer_id] = PeerIndex(output.index, output.weights, sides.remote_map(), computed_at)
    await _refresh_edited(db, state, computed_at)
    written = time.perf_counter()
    cleaned += await drop_hidden(db, peer_id)
    done = time.perf_counter()
    outcome = RecomputeResult(
        peer_id=peer_id,
        local=len(sides.pseudonyms),
        remote=len(sides.remote_actors),
        suggestions=suggestions,
        twins=twins,
        seconds=round(done - started, 3),
        load_s=round(loaded - started, 3),
        match_s=round(matched - loaded, 3),
        write_s=round(written - matched, 3),
        cleanup_s=round(done - written, 3),
        offload=where,
        parts=output.seconds,
    )
    log.info(
        "matches computed",
        extra={
            "peer_id": peer_id,
            "generation": generation,
            "local": outcome.local,
            "remote": outcome.remote,
            "suggestions": outcome.suggestions,
            "twins": outcome.twins,
            "seconds": outcome.seconds,
            "load_s": outcome.load_s,
            "match_s": outcome.match_s,
            "write_s": outcome.write_s,
            "cleanup_s": outcome.cleanup_s,
            "dropped": cleaned,
            "offload": where,
        },
    )
    return outcome


REFRESH_AFTER_RUN = 1_000
"""At most this many residents who edited during a computation are refreshed right
after it; more are left to the next computation (which their edits asked for)."""


async def _refresh_edited(db: Database, state: MatchingState, loaded_at: datetime) -> None:
    """Residents who edited their profile while the computation ran got their fresh
    suggestions in the shown generation, which the new one has just replaced with what
    was computed from their previous vector: refresh them once more. (A save that began
    before the load and committed after it, milliseconds, waits for the next run.)"""
    async with db.read() as session:
        edited = list(
            (
                await session.scalars(
                    select(PublishedVector.resident_id)
                    .where(PublishedVector.published_at > loaded_at)
                    .limit(REFRESH_AFTER_RUN + 1)
                )
            ).all()
        )
    if len(edited) > REFRESH_AFTER_RUN:
        state.poke()
    elif edited:
        await refresh_residents(db, state, edited)


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
