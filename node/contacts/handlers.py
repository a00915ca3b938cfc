"""Inbox handlers for contact activities: requests and answers, blocks, reveals,
messages and forwarded reports.

``check`` refuses what can never become valid: a wrong shape (400), a pseudonym
that is not a current one of this node towards the sending peer (404), and —
enforced here as well as on the sending node — a request for a new pair that fails
the matching gates, and a reveal or message for a pair without mutual, unblocked
consent (403). ``apply`` then changes the state through
:mod:`node.contacts.consent`, which copes with any order and with repetition.
"""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime

from aiohttp import web

from node.contacts import _wire as wire
from node.contacts import consent as contacts
from node.contacts import gates, messages, notices, remote_consent, reports
from node.federation.handlers import ActivityHandler, InboxContext, Rejected, register_handler
from node.matches.state import match_settings
from node.models import Contact
from node.runtime import appkeys

NO_CONSENT = "no mutual consent for this pair"


def _base(ctx: InboxContext) -> str:
    return ctx.app[appkeys.CONFIG].node.base_url


def _actor(ctx: InboxContext) -> str:
    actor = ctx.activity.get("actor")
    return str(actor.get("id") if isinstance(actor, dict) else actor)


async def _local_resident(ctx: InboxContext, local_actor: str) -> int:
    """The resident behind ``local_actor``, or Rejected(404)."""
    resident_id = await contacts.local_resident_for(ctx.session, _base(ctx), local_actor, ctx.peer)
    if resident_id is None:
        raise Rejected(404, f"{local_actor[:120]} is not a current pseudonym here for this peer")
    return resident_id


class _PairHandler(ActivityHandler):
    """A handler whose activity names one pair: (this node's pseudonym, the actor)."""

    @abstractmethod
    def local_actor(self, ctx: InboxContext) -> str:
        """This node's pseudonym actor that the activity concerns."""

    def parsed(self, ctx: InboxContext) -> str:
        try:
            return self.local_actor(ctx)
        except wire.WireError as exc:
            raise Rejected(400, f"{ctx.activity.get('type')}: {exc}") from None

    async def check(self, ctx: InboxContext) -> None:
        await _local_resident(ctx, self.parsed(ctx))

    async def apply(self, ctx: InboxContext) -> None:
        local_actor = self.parsed(ctx)
        resident_id = await contacts.local_resident_for(
            ctx.session, _base(ctx), local_actor, ctx.peer
        )
        if resident_id is None:
            return  # the resident left after the check: nothing to change any more
        moment = wire.published(ctx.activity, ctx.received_at)
        await self.change(ctx, resident_id, local_actor, moment)

    @abstractmethod
    async def change(
        self, ctx: InboxContext, resident_id: int, local_actor: str, moment: datetime
    ) -> None:
        """The state change for the pair, in the inbox transaction."""


class Follows(_PairHandler):
    def local_actor(self, ctx: InboxContext) -> str:
        return wire.target_url(ctx.activity)

    async def check(self, ctx: InboxContext) -> None:
        """A new pair needs the resident's current pseudonym; one replaced by a reset
        answers only for the pairs it already has (404 otherwise, as for a stranger).

        A new pair must also pass the matching gates, checked on the two vectors held
        here (403 with the gate that fails, or when either vector is not held: the
        resident paused, or the sender's profile was withdrawn or has not arrived). A
        pair that already exists (a repeated request, one that follows its own
        ``Undo`` or the other side's ``Accept``) continues without the check."""
        local_actor = self.parsed(ctx)
        resident_id = await _local_resident(ctx, local_actor)
        if await contacts.pair(ctx.session, local_actor, _actor(ctx)) is not None:
            return
        if not await contacts.is_current_pseudonym(ctx.session, _base(ctx), local_actor):
            raise Rejected(
                404, f"{local_actor[:120]} was replaced by a newer pseudonym: no new contacts"
            )
        kind_gates = match_settings(ctx.app[appkeys.CONFIG]).kind_gates
        failed = await gates.refusal(
            ctx.session, resident_id, local_actor, _actor(ctx), ctx.peer.id, kind_gates
        )
        if failed is not None:
            raise Rejected(403, gates.REASONS[failed])

    async def change(
        self, ctx: InboxContext, resident_id: int, local_actor: str, moment: datetime
    ) -> None:
        before = notices.Before.of(await contacts.pair(ctx.session, local_actor, _actor(ctx)))
        contact = await remote_consent.received_follow(
            ctx.session,
            _base(ctx),
            resident_id,
            ctx.peer,
            follow_id=ctx.activity_id,
            local_actor=local_actor,
            remote_actor=_actor(ctx),
            moment=moment,
        )
        await notices.consent_arrived(ctx.session, before, contact)


class _Answers(_PairHandler):
    """``Accept`` / ``Reject`` of this side's ``Follow`` (embedded as a copy)."""

    def local_actor(self, ctx: InboxContext) -> str:
        follow = wire.embedded_follow(ctx.activity)
        if follow.target != _actor(ctx):
            raise wire.WireError("only the one who was asked can answer a Follow")
        return follow.actor


class Accepts(_Answers):
    async def change(
        self, ctx: InboxContext, resident_id: int, local_actor: str, moment: datetime
    ) -> None:
        before = notices.Before.of(await contacts.pair(ctx.session, local_actor, _actor(ctx)))
        contact = await remote_consent.received_accept(
            ctx.session,
            _base(ctx),
            resident_id,
            ctx.peer,
            local_actor=local_actor,
            remote_actor=_actor(ctx),
            moment=moment,
        )
        await notices.consent_arrived(ctx.session, before, contact)


class Rejects(_Answers):
    async def change(
        self, ctx: InboxContext, resident_id: int, local_actor: str, moment: datetime
    ) -> None:
        await remote_consent.received_reject(
            ctx.session,
            resident_id,
            ctx.peer,
            local_actor=local_actor,
            remote_actor=_actor(ctx),
            moment=moment,
        )


class Undos(_PairHandler):
    """``Undo`` of the actor's own ``Follow``."""

    def local_actor(self, ctx: InboxContext) -> str:
        follow = wire.embedded_follow(ctx.activity)
        if follow.actor != _actor(ctx):
            raise wire.WireError("only its author can undo a Follow")
        return follow.target

    async def change(
        self, ctx: InboxContext, resident_id: int, local_actor: str, moment: datetime
    ) -> None:
        follow = wire.embedded_follow(ctx.activity)
        await remote_consent.received_undo(
            ctx.session,
            resident_id,
            ctx.peer,
            follow_id=follow.id,
            local_actor=local_actor,
            remote_actor=_actor(ctx),
            moment=moment,
        )


class Blocks(_PairHandler):
    def local_actor(self, ctx: InboxContext) -> str:
        return wire.target_url(ctx.activity)

    async def change(
        self, ctx: InboxContext, resident_id: int, local_actor: str, moment: datetime
    ) -> None:
        await remote_consent.received_block(
            ctx.session,
            resident_id,
            ctx.peer,
            local_actor=local_actor,
            remote_actor=_actor(ctx),
            moment=moment,
        )


async def _mutual_pair(ctx: InboxContext, local_actor: str) -> Contact:
    """The pair, if its consent is mutual and unblocked; else Rejected(403), or 404 when
    the addressee is no current pseudonym here."""
    await _local_resident(ctx, local_actor)
    contact = await contacts.pair(ctx.session, local_actor, _actor(ctx))
    if contact is None or contact.peer_id != ctx.peer.id or not contacts.is_mutual(contact):
        raise Rejected(403, NO_CONSENT)
    return contact


class Reveals(ActivityHandler):
    """``Update`` of the contact-scoped ``Person``: the other's name and about-text."""

    def parsed(self, ctx: InboxContext) -> tuple[str, wire.RevealedPerson]:
        try:
            return wire.addressee(ctx.activity), wire.revealed_person(ctx.activity)
        except wire.WireError as exc:
            raise Rejected(400, f"Update of Person: {exc}") from None

    async def check(self, ctx: InboxContext) -> None:
        local_actor, _person = self.parsed(ctx)
        await _mutual_pair(ctx, local_actor)

    async def apply(self, ctx: InboxContext) -> None:
        local_actor, person = self.parsed(ctx)
        contact = await contacts.pair(ctx.session, local_actor, _actor(ctx))
        if contact is None or not contacts.is_mutual(contact):
            return  # ended between check and apply: keep nothing
        moment = wire.published(ctx.activity, ctx.received_at)
        await remote_consent.received_reveal(ctx.session, contact, person, moment)


class Notes(ActivityHandler):
    """``Create`` of a ``Note``: a message, stored once, mailed about once."""

    def parsed(self, ctx: InboxContext) -> tuple[str, wire.IncomingNote]:
        try:
            return wire.addressee(ctx.activity), wire.incoming_note(ctx.activity)
        except wire.WireError as exc:
            raise Rejected(400, f"Create of Note: {exc}") from None

    async def check(self, ctx: InboxContext) -> None:
        local_actor, _note = self.parsed(ctx)
        await _mutual_pair(ctx, local_actor)

    async def apply(self, ctx: InboxContext) -> None:
        local_actor, note = self.parsed(ctx)
        contact = await contacts.pair(ctx.session, local_actor, _actor(ctx))
        if contact is None or not contacts.is_mutual(contact):
            return
        await messages.received_message(
            ctx.session,
            contact,
            activity_id=ctx.activity_id,
            note=note,
            written_at=wire.published(ctx.activity, ctx.received_at),
        )


class Flags(ActivityHandler):
    """A report about one of this node's residents, forwarded by the reporter's node."""

    def parsed(self, ctx: InboxContext) -> tuple[str, str, list[str]]:
        try:
            reported = wire.target_url(ctx.activity)
        except wire.WireError as exc:
            raise Rejected(400, f"Flag: {exc}") from None
        reason = ctx.activity.get("reason")
        notes = ctx.activity.get("messages", [])
        if not isinstance(notes, list):
            raise Rejected(400, "Flag: messages must be a list of ids")
        return reported, reason if isinstance(reason, str) else "other", notes

    async def check(self, ctx: InboxContext) -> None:
        self.parsed(ctx)

    async def apply(self, ctx: InboxContext) -> None:
        reported, reason, notes = self.parsed(ctx)
        await reports.received_report(
            ctx.session,
            _base(ctx),
            ctx.peer,
            activity_id=ctx.activity_id,
            reported_actor=reported,
            reason=reason,
            note_ids=notes,
        )


def register(app: web.Application) -> None:
    register_handler(app, "Follow", None, Follows())
    register_handler(app, "Accept", "Follow", Accepts())
    register_handler(app, "Reject", "Follow", Rejects())
    register_handler(app, "Undo", "Follow", Undos())
    register_handler(app, "Block", None, Blocks())
    register_handler(app, "Update", "Person", Reveals())
    register_handler(app, "Create", "Note", Notes())
    register_handler(app, "Flag", None, Flags())
