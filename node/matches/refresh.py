"""Refreshing a resident's suggestions in the very request that changed their profile.

The profile hooks run inside the saving transaction, where the new suggestions cannot
be computed yet (the vector is not committed, and a computation must not hold the
write lock). So the hook only notes the resident here, and the middleware, once the
handler has returned (its transaction committed), refreshes the noted residents before
the response goes out: the page the resident sees next is already up to date.

A refresh scores one resident against the prepared side of each peer, with the rarity
weights of the last full computation: tens of milliseconds, whatever the population.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web
from sqlalchemy import delete, insert, select

from matching.engine import suggestions_for
from node import pseudonyms
from node.matches.compute import MATCHING, PeerIndex, local_vectors, prepare_index, stored_profile
from node.models import Peer, RemoteProfile, Suggestion, utcnow
from node.runtime import appkeys
from node.runtime.db import transaction

log = logging.getLogger(__name__)

_changed: contextvars.ContextVar[set[int] | None] = contextvars.ContextVar(
    "zwilling_changed_residents", default=None
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
AfterChange = Callable[[web.Application, set[int]], Awaitable[None]]


def note_changed(resident_id: int) -> None:
    """Remember that this request changed the resident's published vector."""
    pending = _changed.get()
    if pending is not None:
        pending.add(resident_id)


def refresh_middleware(
    after_change: AfterChange,
) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    @web.middleware
    async def refresh_after_change(request: web.Request, handler: Handler) -> web.StreamResponse:
        pending: set[int] = set()
        token = _changed.set(pending)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:  # a redirect after a successful POST
                await _run(after_change, request.app, pending)
            raise
        finally:
            _changed.reset(token)
        await _run(after_change, request.app, pending)
        return response

    return refresh_after_change


async def _run(after_change: AfterChange, app: web.Application, pending: set[int]) -> None:
    if not pending:
        return
    try:
        await after_change(app, pending)
    except Exception:
        # The periodic computation catches up; the resident's save itself succeeded.
        log.exception("refreshing suggestions after a profile change failed")


async def _prepared(app: web.Application) -> dict[int, PeerIndex]:
    """Every peer's prepared side, built here if this process has none or an old one."""
    state = app[MATCHING]
    sessions = app[appkeys.SESSIONS]
    async with sessions() as session:
        peer_ids = list((await session.scalars(select(Peer.id))).all())
    now = utcnow()
    for peer_id in peer_ids:
        current = state.peers.get(peer_id)
        if current is None or (now - current.computed_at).total_seconds() > state.max_index_age:
            await prepare_index(sessions, state, peer_id)
    return {peer_id: state.peers[peer_id] for peer_id in peer_ids if peer_id in state.peers}


async def refresh_residents(app: web.Application, resident_ids: Iterable[int]) -> None:
    """Recompute the suggestions of just these residents against every peer."""
    ids = sorted(set(resident_ids))
    if not ids:
        return
    started = time.perf_counter()
    state = app[MATCHING]
    prepared = await _prepared(app)
    async with transaction(app[appkeys.SESSIONS]) as session:
        for peer_id, side in prepared.items():
            now = utcnow()
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
                    }
                    for rank, suggestion in enumerate(found)
                )
            await session.execute(
                delete(Suggestion).where(
                    Suggestion.peer_id == peer_id, Suggestion.resident_id.in_(ids)
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
