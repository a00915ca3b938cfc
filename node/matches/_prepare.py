"""A peer's prepared side without a full computation (see :func:`prepare_index`)."""

from __future__ import annotations

import asyncio

from node.matches import _job
from node.matches._offload import offloaded
from node.matches._sides import StoredSides, load_stored
from node.matches.state import MatchingState, PeerIndex
from node.models import utcnow
from node.runtime.db import Database


async def prepare_index(db: Database, state: MatchingState, peer_id: int) -> PeerIndex:
    """The prepared side of a peer without a full computation, for a process that does
    not run the matching worker itself (``zwilling run --no-workers``). Its weights are
    those a full computation over the same vectors would use.

    Callers arriving while one is being prepared wait for it rather than preparing
    their own; like a computation, the work is done away from the loop."""
    asked = utcnow()
    async with state.preparing.setdefault(peer_id, asyncio.Lock()):
        current = state.peers.get(peer_id)
        if current is not None and current.computed_at >= asked:
            return current  # prepared (or computed) while this caller waited
        async with db.read() as session:
            sides: StoredSides = await load_stored(session, peer_id)
        job = await asyncio.to_thread(sides.job, state.base_url, state.taxonomy, state.settings)
        (index, weights), _where = await offloaded(
            _job.prepare, job, in_process=sides.size >= state.process_from
        )
        prepared = PeerIndex(index, weights, sides.remote_map(), asked)
        state.peers[peer_id] = prepared
        return prepared
