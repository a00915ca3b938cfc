"""The node's side of the federation inbox: pinned keys, deduplication, handlers, storage.

``federation.inbox`` runs the protocol (signature, size, shape, origins, order of
checks); this module answers its questions from the database and hands each
stored activity to the handler registered for it (``node.federation.handlers``).

Arrivals are stored in batches (:mod:`node.federation.inbox_batches`): everything
that arrives while a batch is being written waits for the next one, and each request
is answered 202 only after its batch committed. In a batch, the rows and the
handlers' effects commit together; a failing ``apply`` leaves its activity stored as
pending, with the error and its next try, for the inbox worker.

The "seen before?" lookup and the handlers' ``check`` run per batch, in a reading
unit before the write, and only for kinds whose handler has a ``check``, which must
not judge a redelivery; for the others the write looks the batch's ids up once,
and the unique activity id still deduplicates atomically at the insert.

Pinned keys are cached in the process for ``KEY_CACHE_SECONDS``. Only keys found
are cached, never their absence, and a signature no cached key verifies is tried
against the database again, so a newly pinned key works at once; a key removed by
``zwilling peer remove`` stops being accepted within that time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from federation.activities import Activity
from federation.delivery import expired, retry_delay
from federation.inbox import InboxSettings, Receiver, TrustedKey, inbox_handler
from federation.keys import cached_public_key
from node import pseudonyms
from node.federation import _received as inbox_repo
from node.federation.handlers import InboxContext, Rejected, registry
from node.federation.inbox_batches import GroupCommit, describe
from node.metrics import inbox as inbox_metrics
from node.metrics import record as metrics
from node.models import InboxActivity, Peer, utcnow
from node.peers import registry as peer_repo
from node.peers.appkeys import REFRESHER
from node.runtime import appkeys
from node.runtime.db import UnitOfWork, is_sqlite

log = logging.getLogger(__name__)

KEY_CACHE_SECONDS = 10.0
DRAINS = 2
"""Inbox batches in flight at once on PostgreSQL: one is checked or written while the
other one's write waits for the database. SQLite has one writer, and a second batch
there only splits the arrivals into smaller batches that wait for it, each paying for
its own transaction (measured: 10–40 % more CPU per activity), so it takes one."""


def settings_from(app: web.Application) -> InboxSettings:
    """The inbox rules from config: the receiver is this node under each of its public
    authorities (base_url's and ``node.public_authorities``), with its actor and its
    pseudonym actors as the addressees it accepts."""
    config = app[appkeys.CONFIG]
    scheme = "https" if config.secure else "http"
    return InboxSettings(
        max_body_bytes=config.federation.max_body_bytes,
        date_window_seconds=config.federation.date_window_seconds,
        scheme=scheme,
        receiver=Receiver(
            scheme=scheme,
            authorities=config.authorities,
            actor_path=urlsplit(config.actor_url).path,
            actor_prefix=urlsplit(pseudonyms.actor_url(config.node.base_url, "")).path,
        ),
    )


class NodeInbox:
    """Implements federation.inbox's PinnedKeys over this node's database, and its
    ActivityStore for each request (:class:`RequestStore`); the store answers the
    seen and check questions too, per batch (:mod:`node.federation.inbox_batches`)."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._keys: dict[str, tuple[float, list[tuple[TrustedKey[Peer], datetime | None]]]] = {}
        drains = 1 if is_sqlite(app[appkeys.CONFIG].database_url) else DRAINS
        self.batches = GroupCommit(app, self._apply, self.store_alone, drains=drains)

    # -- PinnedKeys -----------------------------------------------------------------

    async def keys_for(self, key_id: str, *, fresh: bool = False) -> Sequence[TrustedKey[Peer]]:
        found = await self._lookup(key_id, fresh=fresh)
        if found:
            return found
        outcome = await self._app[REFRESHER].refresh_for_key(key_id)
        if outcome == "trusted":
            return await self._lookup(key_id, fresh=True)
        if outcome == "unreachable":
            # A configured peer whose actor could not be fetched yet: a passing state,
            # so ask the sender to retry rather than refuse for good.
            raise Rejected(503, "this node has not yet fetched the keys of your actor; retry")
        return []

    async def _lookup(self, key_id: str, *, fresh: bool = False) -> list[TrustedKey[Peer]]:
        now = utcnow()
        cached = self._keys.get(key_id)
        if fresh or cached is None or time.monotonic() - cached[0] > KEY_CACHE_SECONDS:
            async with self._app[appkeys.DATABASE].read() as session:
                rows = await peer_repo.keys_for(session, key_id, now)
            entries = [
                (
                    TrustedKey(
                        key_id=key.key_id,
                        public_key=cached_public_key(key.public_key_pem),
                        fingerprint=key.fingerprint,
                        origin=peer.origin,
                        peer=peer,
                    ),
                    key.retires_at,
                )
                for key, peer in rows
            ]
            if not entries:
                self._keys.pop(key_id, None)
                return []
            cached = (time.monotonic(), entries)
            self._keys[key_id] = cached
        return [key for key, retires in cached[1] if retires is None or retires > now]

    # -- ActivityStore --------------------------------------------------------------------

    async def store(
        self, activity: Activity, signer: TrustedKey[Peer], request: web.Request
    ) -> bool:
        """Seen, checked and stored with whatever arrives at the same time; a refusal by
        a handler's check is counted here, where its type is known, against ``request``
        (the one the activity came with)."""
        try:
            return await self.batches.submit(activity, signer)
        except Rejected as exc:
            inbox_metrics.inbox_refused(request, activity.type, activity.object_type, exc.status)
            raise

    async def _apply(
        self,
        session: UnitOfWork,
        activity: Activity,
        peer: Peer,
        received_at: datetime,
        fingerprint: str | None,
    ) -> None:
        await _apply(self._app, session, activity.document, peer, received_at, fingerprint)

    async def store_alone(self, activity: Activity, signer: TrustedKey[Peer]) -> bool:
        """One activity in a unit of its own: how a batch that failed stores each of its
        activities, so that only a failing one becomes pending."""
        now = utcnow()
        values = inbox_repo.received(activity, signer, now)
        db = self._app[appkeys.DATABASE]
        try:
            async with db.write() as session:
                row = insert(InboxActivity).values(
                    **values, state="applied", applied_at=now, next_try_at=now
                )
                try:
                    await session.execute(row)
                except IntegrityError:
                    raise _Duplicate() from None
                peer = await session.merge(signer.peer, load=False)
                await _apply(self._app, session, activity.document, peer, now, signer.fingerprint)
            _outcomes(self._app, activity, "accepted", "applied")
            return True
        except _Duplicate:
            _outcomes(self._app, activity, "duplicate")
            return False
        except Exception as exc:
            log.warning(
                "inbox handler failed; stored for retry",
                extra={"activity": activity.id, "error": describe(exc)},
            )
            try:
                async with db.write() as session:
                    session.add(
                        InboxActivity(
                            **values,
                            state="pending",
                            next_try_at=now + timedelta(seconds=_delay(self._app, 1)),
                            last_error=describe(exc),
                        )
                    )
            except IntegrityError:
                _outcomes(self._app, activity, "duplicate")
                return False  # stored meanwhile by a concurrent delivery of the same id
            _outcomes(self._app, activity, "accepted", "failed")
            return True


@dataclass(frozen=True)
class RequestStore:
    """federation.inbox's ActivityStore as one request sees it: the node's inbox, told
    which request each activity came with (the metrics count a refusal per request)."""

    inbox: NodeInbox
    request: web.Request

    async def store(self, activity: Activity, signer: TrustedKey[Peer]) -> bool:
        return await self.inbox.store(activity, signer, self.request)


def _outcomes(app: web.Application, activity: Activity, *outcomes: str) -> None:
    """Count what became of a stored activity: its arrival, then its handler's result
    (a failed one is retried by the inbox worker)."""
    for outcome in outcomes:
        reason = "retrying" if outcome == "failed" else ""
        metrics.inbox_activity(app, activity.type, activity.object_type, outcome, reason)


class _Duplicate(Exception):
    """The activity id was stored meanwhile by a concurrent delivery of the same id."""


def _delay(app: web.Application, tries: int) -> float:
    federation = app[appkeys.CONFIG].federation
    return retry_delay(tries, base=federation.retry_base_seconds, cap=federation.retry_max_seconds)


async def _apply(
    app: web.Application,
    session: UnitOfWork,
    activity: Mapping[str, object],
    peer: Peer,
    received_at: datetime,
    fingerprint: str | None,
) -> None:
    handler = registry(app).lookup(activity)
    context = InboxContext(
        session=session,
        activity=activity,
        peer=peer,
        app=app,
        received_at=received_at,
        key_fingerprint=fingerprint,
    )
    await handler.apply(context)
    # Flushed here so that a failing write is blamed on this activity, not on the
    # batch; a handler that left nothing to flush (statements run at once, or none)
    # costs no trip through the session's flush.
    if session.new or session.dirty or session.deleted:
        await session.flush()


async def retry_row(app: web.Application, row_id: int) -> bool | None:
    """Apply a pending row again; True applied, False failed again, None not ours to try.

    On failure the row keeps its place and gets its next try, or becomes failed once
    it has been retried for ``delivery_max_age_hours``.
    """
    db = app[appkeys.DATABASE]
    now = utcnow()
    try:
        async with db.write() as session:
            row = await inbox_repo.lock_pending(session, row_id)
            if row is None:
                return None
            tries = row.tries
            peer = await session.get(Peer, row.peer_id) if row.peer_id is not None else None
            if peer is None:
                raise Rejected(410, "the peer that sent it has been removed")
            await _apply(app, session, row.payload, peer, row.received_at, row.key_fingerprint)
            row.state = "applied"
            row.applied_at = now
            row.tries = tries + 1
            row.last_error = None
        metrics.inbox_activity(app, row.activity_type, row.object_type, "applied")
        return True
    except Exception as exc:
        federation = app[appkeys.CONFIG].federation
        async with db.write() as session:
            row = await session.get(InboxActivity, row_id)
            if row is None or row.state != "pending":
                return None
            tries = row.tries + 1
            final = isinstance(exc, Rejected) or expired(
                row.received_at, now, timedelta(hours=federation.delivery_max_age_hours)
            )
            await session.execute(
                update(InboxActivity)
                .where(InboxActivity.id == row_id, InboxActivity.state == "pending")
                .values(
                    state="failed" if final else "pending",
                    tries=tries,
                    next_try_at=now + timedelta(seconds=_delay(app, tries)),
                    last_error=describe(exc),
                )
                .execution_options(synchronize_session=False)
            )
        reason = "given_up" if final else "retrying"
        metrics.inbox_activity(app, row.activity_type, row.object_type, "failed", reason)
        return False


def setup(app: web.Application) -> None:
    """Register POST /inbox and the key lookup peer-only endpoints share."""
    inbox = NodeInbox(app)
    settings = settings_from(app)
    registry(app)
    app[appkeys.INBOX_SETTINGS] = settings
    app[appkeys.PINNED_KEYS] = inbox

    async def endpoint(request: web.Request) -> web.StreamResponse:
        # A handler of its own per request (two closures), so the store knows the request.
        handler = inbox_handler(settings, keys=inbox, store=RequestStore(inbox, request))
        return await handler(request)

    app.router.add_post("/inbox", inbox_metrics.counted_inbox(app, endpoint), name="inbox")

    async def batches(_app: web.Application) -> AsyncIterator[None]:
        # Stopped after requests had their grace period, before the database closes.
        yield
        await inbox.batches.stop()

    app.cleanup_ctx.append(batches)
