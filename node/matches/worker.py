"""The matching worker: keeps peers' copies of this node's vectors current, pulls a
peer's full set on first contact, and recomputes matches when something changed.

When it runs:

* at start: reconcile the publication (repairs anything missed), pull the full set of
  every peer this node holds nothing of yet, compute all matches;
* a few seconds after a burst of incoming updates or local changes (debounced, so a
  hundred updates in a row cost one computation);
* after every sync, including one run from the command line in another process
  (noticed through ``peers.last_sync_at``);
* every ``recompute_interval_seconds`` regardless.

A peer that cannot be reached at first contact is tried again with backoff, starting
within seconds: at start-up the node's own site may not be listening yet when the
peer, checking the signature, fetches this node's actor.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web
from sqlalchemy import select

from node.matches.appkeys import MATCHING
from node.matches.compute import recompute_all
from node.matches.state import MatchingState
from node.metrics import record as metrics
from node.models import Peer
from node.peer_vectors import store as peer_vectors
from node.peer_vectors.appkeys import VECTOR_STATS
from node.peer_vectors.sync import SyncError, sync_peer
from node.peers.appkeys import FETCHER
from node.runtime import appkeys
from node.vectors.appkeys import PUBLISHER
from node.vectors.republication import republish

log = logging.getLogger(__name__)

DEBOUNCE_SECONDS = 3.0
POLL_SECONDS = 30.0
RETRY_BASE_SECONDS = 2.0
RETRY_MAX_SECONDS = 3600.0


class MatchingWorker:
    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.state: MatchingState = app[MATCHING]
        self.interval = app[appkeys.CONFIG].matching.recompute_interval_seconds
        self.last_full = 0.0
        self.last_end = 0.0
        self.last_duration = 0.0
        self.sync_marks: dict[int, datetime | None] = {}
        self.own_syncs: set[int] = set()
        self.first_contact: dict[int, tuple[float, float]] = {}  # peer -> (due, delay)

    async def run(self, stop: asyncio.Event) -> None:
        await self._guarded(self._start)
        while not stop.is_set():
            await self._wait(stop, self._timeout())
            if stop.is_set():
                break
            if self.state.wake.is_set():
                await self._wait(stop, self._settle_seconds(), wake=False)
                self.state.wake.clear()
            await self._guarded(self._round)

    async def _start(self) -> None:
        await self._republish()
        async with self.app[appkeys.DATABASE].read() as session:
            peers = list((await session.scalars(select(Peer))).all())
            for peer in peers:
                self.sync_marks[peer.id] = peer.last_sync_at
                if not await peer_vectors.holds_any(session, peer):
                    self.first_contact[peer.id] = (0.0, RETRY_BASE_SECONDS)
        await self._first_contacts()
        await self._recompute(None)

    async def _round(self) -> None:
        dirty = self._take_dirty()
        for peer_id in sorted(self.state.sync_requested, key=lambda p: p or 0):
            self.state.sync_requested.discard(peer_id)
            for target in await self._targets(peer_id):
                await self._sync(target)
                dirty.add(target)
        await self._first_contacts()
        dirty |= await self._synced_elsewhere()
        if time.monotonic() - self.last_full >= self.interval:
            await self._republish()
            await self._recompute(None)
        elif dirty:
            await self._recompute(None if -1 in dirty else dirty)

    def _settle_seconds(self) -> float:
        """Let a burst of changes settle, and keep full computations from running more
        than half of the time when they are slow (the whole of both cities)."""
        idle = time.monotonic() - self.last_end
        return max(DEBOUNCE_SECONDS, self.last_duration - idle)

    def _take_dirty(self) -> set[int]:
        dirty = set(self.state.dirty)
        self.state.dirty.clear()
        return dirty

    def _timeout(self) -> float:
        now = time.monotonic()
        until_full = self.interval - (now - self.last_full)
        until_retry = min(
            (due - now for due, _ in self.first_contact.values()), default=POLL_SECONDS
        )
        return max(0.5, min(POLL_SECONDS, until_full, until_retry))

    async def _republish(self) -> None:
        await republish(self.app[appkeys.DATABASE], self.app[PUBLISHER])

    async def _recompute(self, only: set[int] | None) -> None:
        started = time.monotonic()
        await recompute_all(self.app[appkeys.DATABASE], self.state, only)
        self.last_end = time.monotonic()
        self.last_duration = self.last_end - started
        if only is None:
            self.last_full = self.last_end
        metrics.matching_run(self.app, full=only is None, seconds=self.last_duration)

    async def _targets(self, peer_id: int | None) -> list[int]:
        if peer_id is not None:
            return [peer_id]
        async with self.app[appkeys.DATABASE].read() as session:
            return list((await session.scalars(select(Peer.id).order_by(Peer.id))).all())

    async def _sync(self, peer_id: int) -> bool:
        try:
            result = await sync_peer(
                self.app[appkeys.DATABASE], self.app[FETCHER], peer_id, self.app[VECTOR_STATS]
            )
        except SyncError as exc:
            log.warning("vector sync failed", extra={"peer_id": peer_id, "error": str(exc)})
            return False
        self.own_syncs.add(peer_id)  # recomputed by this round already
        self.first_contact.pop(peer_id, None)
        log.info("vector sync done", extra={"peer": result.peer, "fetched": result.fetched})
        return True

    async def _first_contacts(self) -> None:
        now = time.monotonic()
        for peer_id, (due, delay) in list(self.first_contact.items()):
            if due > now:
                continue
            if await self._sync(peer_id):
                self.state.poke(peer_id)
            else:
                self.first_contact[peer_id] = (now + delay, min(delay * 2, RETRY_MAX_SECONDS))

    async def _synced_elsewhere(self) -> set[int]:
        """Peers whose ``last_sync_at`` moved since last seen (``zwilling sync``)."""
        changed = set()
        async with self.app[appkeys.DATABASE].read() as session:
            rows = (await session.execute(select(Peer.id, Peer.last_sync_at))).all()
        for peer_id, mark in rows:
            if peer_id not in self.sync_marks:
                self.first_contact.setdefault(peer_id, (0.0, RETRY_BASE_SECONDS))
            elif mark != self.sync_marks[peer_id] and peer_id not in self.own_syncs:
                changed.add(peer_id)
            self.sync_marks[peer_id] = mark
        self.own_syncs.clear()
        return changed

    async def _wait(self, stop: asyncio.Event, seconds: float, *, wake: bool = True) -> None:
        waiters = [asyncio.ensure_future(stop.wait())]
        if wake:
            waiters.append(asyncio.ensure_future(self.state.wake.wait()))
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _guarded(self, step: Callable[[], Awaitable[None]]) -> None:
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("matching worker step failed; trying again later")
