"""Matches as one feature: the state kept between computations, the refresh of a
resident's suggestions right after their vector changed, and the worker that
recomputes twins and suggestions with every peer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from node.matches._refresh import refresh_residents
from node.matches.appkeys import MATCHING
from node.matches.state import MatchingState, new_state
from node.matches.worker import MatchingWorker
from node.peer_vectors.store import RemoteVectorsChanged
from node.runtime import appkeys
from node.runtime.db import Database
from node.vectors.publication import VectorsChanged


def setup(app: web.Application) -> None:
    db = app[appkeys.DATABASE]
    state = app[MATCHING] = new_state(app[appkeys.CONFIG])
    db.events.subscribe(VectorsChanged, _refresh(db, state))
    db.events.subscribe(RemoteVectorsChanged, lambda event: state.poke(event.peer_id))
    app[appkeys.BACKGROUND].add("matching", MatchingWorker(app).run)


def _refresh(db: Database, state: MatchingState) -> Callable[[VectorsChanged], Awaitable[None]]:
    async def refresh(event: VectorsChanged) -> None:
        """This node's own residents changed: their suggestions now, twins (as the peer
        will compute them) at the next debounced computation."""
        state.poke()
        await refresh_residents(db, state, event.resident_ids)

    return refresh
