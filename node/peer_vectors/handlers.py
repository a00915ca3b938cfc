"""Inbox handlers for peers' vectors: ``Update`` of an ``InterestProfile`` and ``Delete``
of a ``Tombstone``, which withdraws the profile only (``formerType`` ``InterestProfile``:
paused, suspended, reset; contacts continue) or deletes the pseudonym actor
(``formerType`` ``Person``: the account is gone, and so are its contacts here).

``check`` refuses before anything is stored, by the checks of
:mod:`node.peer_vectors.arrival`: a malformed vector (400), a vector for a resident of
another origin (403), an activity whose integrity proof does not verify with the
peer's pinned Ed25519 key (403). ``apply`` stores by the rules of
:mod:`node.peer_vectors.store` and asks for a (debounced) recompute; the updates of a
batch of arrivals are stored together (``apply_all``), in a constant number of
statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiohttp import web

from federation.proofs import ProofError
from matching.wire import ProfileFormatError
from node.contacts import remote_consent
from node.federation.handlers import ActivityHandler, InboxContext, Rejected, register_handler
from node.peer_vectors import arrival, store
from node.peer_vectors.appkeys import VECTOR_STATS
from node.peer_vectors.arrival import ForeignProfile
from node.peer_vectors.store import ProfileUpdate, RemoteVectorsChanged, VectorStats
from node.vectors.activities import ACTOR_DELETED, PROFILE_DELETED


def vector_stats(app: web.Application) -> VectorStats:
    return app[VECTOR_STATS]


def _object(ctx: InboxContext) -> dict[str, Any]:
    target = ctx.activity.get("object")
    if not isinstance(target, dict):
        raise Rejected(400, "object must be a JSON object")
    return target


async def _verify(ctx: InboxContext) -> None:
    try:
        await arrival.verify_peer_proof(ctx.session, ctx.peer, ctx.activity)
    except ProofError as exc:
        raise Rejected(403, f"integrity proof: {exc.reason}") from None


class ProfileUpdates(ActivityHandler):
    async def check(self, ctx: InboxContext) -> None:
        try:
            profile, _dropped = arrival.parse_profile(_object(ctx), ctx.peer)
            arrival.parse_sequence(_object(ctx))
        except ProfileFormatError as exc:
            raise Rejected(400, f"InterestProfile: {exc.reason}") from None
        except ForeignProfile as exc:
            raise Rejected(403, f"InterestProfile: {exc}") from None
        if profile.id != ctx.activity.get("actor"):
            raise Rejected(403, "a pseudonym actor can only publish its own profile")
        await _verify(ctx)

    async def apply(self, ctx: InboxContext) -> None:
        update = _update(ctx)
        stats = vector_stats(ctx.app)
        outcome = await store.store_update(
            ctx.session, ctx.peer, update.profile, update.sequence, update.dropped, stats
        )
        if outcome == "stored":
            ctx.session.record(RemoteVectorsChanged(ctx.peer.id))

    async def apply_all(self, contexts: Sequence[InboxContext]) -> None:
        if not contexts:
            return
        first = contexts[0]
        outcomes = await store.store_updates(
            first.session, [_update(ctx) for ctx in contexts], vector_stats(first.app)
        )
        for ctx, outcome in zip(contexts, outcomes, strict=True):
            if outcome == "stored":
                ctx.session.record(RemoteVectorsChanged(ctx.peer.id))


def _update(ctx: InboxContext) -> ProfileUpdate:
    target = _object(ctx)
    profile, dropped = arrival.parse_profile(target, ctx.peer)
    return ProfileUpdate(ctx.peer, profile, arrival.parse_sequence(target), dropped)


class Withdrawal:
    """A checked ``Tombstone``: whose, how far in the pseudonym's sequence, and whether
    the actor itself is deleted."""

    def __init__(self, ctx: InboxContext) -> None:
        target = _object(ctx)
        actor = target.get("id")
        deleted = arrival.parse_moment(target.get("deleted"))
        if not isinstance(actor, str) or deleted is None:
            raise Rejected(400, "Tombstone needs an id and a deleted timestamp with a time zone")
        former = target.get("formerType")
        if former not in (PROFILE_DELETED, ACTOR_DELETED):
            raise Rejected(
                400, f"Tombstone formerType must be {PROFILE_DELETED!r} or {ACTOR_DELETED!r}"
            )
        try:
            self.sequence = arrival.parse_sequence(target)
        except ProfileFormatError as exc:
            raise Rejected(400, f"Tombstone: {exc.reason}") from None
        self.actor = actor
        self.deleted = deleted
        self.actor_deleted = former == ACTOR_DELETED


class ProfileWithdrawals(ActivityHandler):
    async def check(self, ctx: InboxContext) -> None:
        withdrawal = Withdrawal(ctx)
        if withdrawal.actor != ctx.activity.get("actor"):
            raise Rejected(403, "a pseudonym actor can only withdraw itself")
        if not arrival.same_origin(withdrawal.actor, ctx.peer.origin):
            raise Rejected(
                403, f"{withdrawal.actor[:120]} is not on the origin of {ctx.peer.actor_url}"
            )
        await _verify(ctx)

    async def apply(self, ctx: InboxContext) -> None:
        withdrawal = Withdrawal(ctx)
        stats = vector_stats(ctx.app)
        if await store.store_withdrawal(
            ctx.session,
            ctx.peer,
            withdrawal.actor,
            sequence=withdrawal.sequence,
            deleted=withdrawal.deleted,
            actor_deleted=withdrawal.actor_deleted,
            stats=stats,
        ):
            ctx.session.record(RemoteVectorsChanged(ctx.peer.id))
        if withdrawal.actor_deleted:
            # Contacts end even when the vector was already gone (a late or repeated
            # Delete, or a resident who had paused before leaving).
            await remote_consent.remote_resident_left(ctx.session, withdrawal.actor)


def register(app: web.Application) -> None:
    register_handler(app, "Update", "InterestProfile", ProfileUpdates())
    register_handler(app, "Delete", "Tombstone", ProfileWithdrawals())
