"""Group commit for the inbox: activities arriving together are checked and stored
together, in one transaction per batch.

Each verified activity joins a queue and its request waits. A drain takes whatever
has queued up (at most ``MAX_BATCH``) and, while it works, the next arrivals queue for
the batch after. A transaction per activity costs a commit (and on SQLite the one
write lock) per request; a batch pays for one, and grows by itself as load grows,
while under light load a batch is a single activity that waits for nobody.

A batch keeps the rules of a single activity:

* a redelivery is answered as a duplicate before any ``check`` sees it, and an id
  that comes twice in one batch is stored once (the later copies are duplicates);
* handlers with a ``check`` get their read-only look in a reading unit first, and a
  refusal answers only that request;
* the rows and every handler's ``apply`` share one writing unit. When a handler
  fails, the unit is rolled back and the batch runs again with that activity stored
  as pending (its error and next try, for the inbox worker) instead of applied: its
  handler is called once on arrival, as if it had come alone, and the others are
  applied. A handler with ``apply_all`` gets each run of consecutive activities of
  its kind at once; when that fails, the batch runs again with every handler's
  ``apply`` per activity, which finds the one that fails as above. (A handler's
  effects outside the database may thus happen twice, as with any rolled-back
  unit.) When anything else fails (an id stored meanwhile by another
  process, the database refusing the commit), each activity is stored on its own;
* a request is answered only once its batch (or its own fallback) has committed, so
  a stop between verification and commit acknowledges nothing that was not stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from federation.activities import Activity
from federation.delivery import retry_delay
from federation.inbox import TrustedKey
from node.federation import _received as inbox_repo
from node.federation.handlers import ActivityHandler, InboxContext, Rejected, registry
from node.metrics import record as metrics
from node.models import Peer, utcnow
from node.runtime import appkeys

if TYPE_CHECKING:
    from aiohttp import web
from node.runtime.db import UnitOfWork

log = logging.getLogger(__name__)

MAX_BATCH = 256
"""Enough to absorb any concurrency a peer sends with; a bound so that one batch's
transaction stays short."""

Apply = Callable[[UnitOfWork, Activity, Peer, datetime, str | None], Awaitable[None]]
StoreOne = Callable[[Activity, TrustedKey[Peer]], Awaitable[bool]]


class InboxStopped(Exception):
    """The node stopped before the activity's batch committed; nothing was acknowledged."""


@dataclass(eq=False)
class Arrival:
    """An activity waiting for its batch; ``done`` answers True (stored), False
    (duplicate), or raises Rejected or the failure that kept it from being stored."""

    activity: Activity
    signer: TrustedKey[Peer]
    done: asyncio.Future[bool] = field(repr=False)


def overrides_check(handler: ActivityHandler) -> bool:
    check = getattr(type(handler), "check", None)
    return check is not None and check is not ActivityHandler.check


def overrides_apply_all(handler: ActivityHandler) -> bool:
    apply_all = getattr(type(handler), "apply_all", None)
    return apply_all is not None and apply_all is not ActivityHandler.apply_all


class GroupCommit:
    """The queue and its drains: ``drains`` batches in flight at once, so that one
    batch is checked or written while another one's write waits for the database. On
    SQLite, which has one writer, take one: two writing units would wait for each other
    in its busy handler, which sleeps in growing steps."""

    def __init__(
        self,
        app: web.Application,
        apply: Apply,
        store_one: StoreOne,
        *,
        drains: int = 2,
    ) -> None:
        self._app = app
        self._apply = apply
        self._store_one = store_one
        self._queue: list[Arrival] = []
        self._drains: set[asyncio.Task[None]] = set()
        self._max_drains = drains
        self._stopped = False

    async def submit(self, activity: Activity, signer: TrustedKey[Peer]) -> bool:
        """Wait until the activity is stored (True) or found stored before (False)."""
        if self._stopped:
            raise InboxStopped("the inbox is stopping")
        loop = asyncio.get_running_loop()
        arrival = Arrival(activity, signer, loop.create_future())
        self._queue.append(arrival)
        if len(self._drains) < self._max_drains:
            # A context of its own: the drain serves many requests, and must not carry
            # the request-scoped state of the one that happened to start it.
            drain = loop.create_task(self._run(), context=contextvars.Context())
            self._drains.add(drain)
            drain.add_done_callback(self._drains.discard)
        return await arrival.done

    async def stop(self) -> None:
        """Refuse new arrivals, and answer the queued ones that no batch will store."""
        self._stopped = True
        for drain in list(self._drains):
            drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drain
        _fail(self._queue, InboxStopped("the inbox stopped before storing the activity"))
        self._queue.clear()

    async def _run(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                await self._settle(batch)
            except asyncio.CancelledError:
                _fail(batch, InboxStopped("the inbox stopped before storing the activity"))
                raise
            except Exception as exc:  # storage down: every waiting request gets its 503
                _fail(batch, exc)

    async def _settle(self, batch: list[Arrival]) -> None:
        waiting = await self._checked(batch)
        if waiting:
            await self._write(waiting)

    async def _write(self, waiting: list[Arrival]) -> None:
        failed: dict[Arrival, Exception] = {}
        together = True
        while waiting:
            try:
                outcomes = await self._commit(waiting, failed, together=together)
            except _RunFailed as failure:
                # Rolled back: again, one activity at a time, to learn which one fails.
                log.warning(
                    "inbox handler failed on a run of activities; applying one by one",
                    extra={"error": describe(failure.error)},
                )
                together = False
                continue
            except _ApplyFailed as failure:
                # Rolled back: the others again, the failing one as a pending row
                # (its handler is not called twice on arrival).
                log.warning(
                    "inbox handler failed; stored for retry",
                    extra={
                        "activity": failure.arrival.activity.id,
                        "error": describe(failure.error),
                    },
                )
                failed[failure.arrival] = failure.error
                continue
            except Exception:
                await self._one_by_one(waiting)
                return
            for arrival, stored in outcomes:
                if not stored:
                    _outcomes(self._app, arrival.activity, "duplicate")
                elif arrival in failed:
                    _outcomes(self._app, arrival.activity, "accepted", "failed")
                else:
                    _outcomes(self._app, arrival.activity, "accepted", "applied")
                _answer(arrival, stored)
            return

    async def _one_by_one(self, waiting: Sequence[Arrival]) -> None:
        """The batch failed as a whole (an id stored meanwhile by another process, the
        database refusing the commit): each activity as if it had arrived alone."""
        for arrival in waiting:
            if arrival.done.done():
                continue
            try:
                stored = await self._store_one(arrival.activity, arrival.signer)
            except Exception as exc:
                _fail([arrival], exc)
            else:
                _answer(arrival, stored)

    async def _checked(self, batch: list[Arrival]) -> list[Arrival]:
        """The arrivals still to store, after redeliveries of checked kinds were answered
        and the handlers' checks had their say (both before anything is written)."""
        lookup = registry(self._app).lookup
        checked = [a for a in batch if overrides_check(lookup(a.activity.document))]
        if not checked:
            return batch
        answered: set[int] = set()
        async with self._app[appkeys.DATABASE].read() as session:
            stored = await inbox_repo.stored_ids(session, [a.activity.id for a in checked])
            first: dict[str, Arrival] = {}
            for arrival in checked:
                activity = arrival.activity
                if activity.id in stored:
                    metrics.inbox_activity(
                        self._app, activity.type, activity.object_type, "duplicate"
                    )
                    _answer(arrival, False)
                    answered.add(id(arrival))
                    continue
                if activity.id in first:
                    continue  # its twin is judged; the store answers this one
                first[activity.id] = arrival
                context = InboxContext(
                    session=session,
                    activity=activity.document,
                    peer=arrival.signer.peer,
                    app=self._app,
                    received_at=utcnow(),
                    key_fingerprint=arrival.signer.fingerprint,
                )
                try:
                    await lookup(activity.document).check(context)
                except Rejected as exc:
                    _fail([arrival], exc)
                    answered.add(id(arrival))
                    first.pop(activity.id)
        return [a for a in batch if id(a) not in answered]

    async def _commit(
        self,
        batch: Sequence[Arrival],
        failed: Mapping[Arrival, Exception],
        *,
        together: bool = True,
    ) -> list[tuple[Arrival, bool]]:
        """Rows and effects of the whole batch in one unit; what each arrival became.
        Arrivals in ``failed`` are stored pending, with their error, and not applied.
        ``together``: runs of a handler with ``apply_all`` go to it at once."""
        now = utcnow()
        first: dict[str, Arrival] = {}
        for arrival in batch:
            first.setdefault(arrival.activity.id, arrival)
        retry_at = now + timedelta(seconds=self._first_retry())
        async with self._app[appkeys.DATABASE].write() as session:
            # In id order, so that two batches in flight on PostgreSQL lock the ids of a
            # redelivery in the same order and never deadlock on each other.
            inserted = await inbox_repo.insert_new(
                session,
                [_row(first[i], now, failed.get(first[i]), retry_at) for i in sorted(first)],
            )
            outcomes = [(a, first[a.activity.id] is a and a.activity.id in inserted) for a in batch]
            fresh = [a for a, stored in outcomes if stored]
            peers: dict[int, Peer] = {}
            applying: list[tuple[Arrival, Peer]] = []
            for arrival in fresh:
                if arrival in failed:
                    continue
                signer = arrival.signer.peer
                peer = peers.get(signer.id)
                if peer is None:
                    peer = peers[signer.id] = await session.merge(signer, load=False)
                applying.append((arrival, peer))
            for handler, run in self._runs(applying, together):
                if handler is not None:
                    contexts = [
                        InboxContext(
                            session=session,
                            activity=arrival.activity.document,
                            peer=peer,
                            app=self._app,
                            received_at=now,
                            key_fingerprint=arrival.signer.fingerprint,
                        )
                        for arrival, peer in run
                    ]
                    try:
                        await handler.apply_all(contexts)
                        await session.flush()
                    except Exception as exc:
                        raise _RunFailed(exc) from exc
                    continue
                for arrival, peer in run:
                    try:
                        await self._apply(
                            session, arrival.activity, peer, now, arrival.signer.fingerprint
                        )
                    except Exception as exc:
                        raise _ApplyFailed(arrival, exc) from exc
        return outcomes

    def _runs(
        self, applying: Sequence[tuple[Arrival, Peer]], together: bool
    ) -> list[tuple[ActivityHandler | None, list[tuple[Arrival, Peer]]]]:
        """``applying`` cut into runs, in order: consecutive activities of a handler with
        ``apply_all`` form one run for it (None: each activity to its own ``apply``)."""
        runs: list[tuple[ActivityHandler | None, list[tuple[Arrival, Peer]]]] = []
        for arrival, peer in applying:
            handler = self._batch_handler(arrival.activity) if together else None
            if handler is not None and runs and runs[-1][0] is handler:
                runs[-1][1].append((arrival, peer))
            else:
                runs.append((handler, [(arrival, peer)]))
        return [(handler if len(run) > 1 else None, run) for handler, run in runs]

    def _batch_handler(self, activity: Activity) -> ActivityHandler | None:
        try:
            handler = registry(self._app).lookup(activity.document)
        except Rejected:
            return None  # its own apply answers for it
        return handler if overrides_apply_all(handler) else None

    def _first_retry(self) -> float:
        federation = self._app[appkeys.CONFIG].federation
        return retry_delay(1, base=federation.retry_base_seconds, cap=federation.retry_max_seconds)


class _RunFailed(Exception):
    """A handler's ``apply_all`` failed: which of its activities is to blame is not known."""

    def __init__(self, error: Exception) -> None:
        super().__init__(describe(error))
        self.error = error


class _ApplyFailed(Exception):
    def __init__(self, arrival: Arrival, error: Exception) -> None:
        super().__init__(describe(error))
        self.arrival = arrival
        self.error = error


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _row(
    arrival: Arrival, now: datetime, error: Exception | None, retry_at: datetime
) -> dict[str, Any]:
    row = inbox_repo.received(arrival.activity, arrival.signer, now)
    if error is None:
        return {
            **row,
            "state": "applied",
            "applied_at": now,
            "next_try_at": now,
            "last_error": None,
        }
    return {
        **row,
        "state": "pending",
        "applied_at": None,
        "next_try_at": retry_at,
        "last_error": describe(error),
    }


def _answer(arrival: Arrival, stored: bool) -> None:
    if not arrival.done.done():
        arrival.done.set_result(stored)


def _fail(arrivals: Sequence[Arrival], exc: BaseException) -> None:
    for arrival in arrivals:
        if not arrival.done.done():
            arrival.done.set_exception(exc)


def _outcomes(app: web.Application, activity: Activity, *outcomes: str) -> None:
    """Count what became of a stored activity: its arrival, then its handler's result
    (a failed one is retried by the inbox worker)."""
    for outcome in outcomes:
        reason = "retrying" if outcome == "failed" else ""
        metrics.inbox_activity(app, activity.type, activity.object_type, outcome, reason)
