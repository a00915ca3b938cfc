"""Double opt-in contact, the peer resident's side: the same activities as
:mod:`node.contacts.consent` sends, as they arrive (inbox handlers call these). They
tolerate any order and repetition, because that is how a network delivers; the peer
node's clock orders its own resident's activities.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from node.contacts import _wire as wire
from node.contacts.consent import (
    ENDED_CONSENTS,
    forget_reveal,
    is_closed,
    pair_or_new,
    reveal_if_mutual,
)
from node.models import Contact, Message, Peer, utcnow
from node.models.contacts import CONSENT_DECLINED, CONSENT_NONE, CONSENT_WITHDRAWN, CONSENT_YES
from node.retention import erasure
from node.runtime.db import UnitOfWork


def _newer(contact: Contact, moment: datetime) -> bool:
    """Whether an activity written at ``moment`` is newer than the last that changed the
    peer resident's side (their node's clock orders their own activities)."""
    return contact.their_consent_at is None or moment > contact.their_consent_at


def _set_theirs(contact: Contact, consent: str, moment: datetime) -> None:
    contact.their_consent = consent
    contact.their_consent_at = moment
    contact.updated_at = utcnow()


async def received_follow(
    session: UnitOfWork,
    base_url: str,
    resident_id: int,
    peer: Peer,
    *,
    follow_id: str,
    local_actor: str,
    remote_actor: str,
    moment: datetime,
) -> Contact:
    contact = await pair_or_new(session, resident_id, peer.id, local_actor, remote_actor)
    if _lifted_block(contact, moment):
        _reopen(contact)
    elif is_closed(contact) or contact.their_consent in ENDED_CONSENTS:
        return contact  # ended pairs stay ended; an Undo that came first wins
    if contact.their_consent == CONSENT_YES and contact.their_follow_id == follow_id:
        return contact
    if not _newer(contact, moment) and contact.their_consent != CONSENT_NONE:
        return contact
    contact.their_follow_id = follow_id
    _set_theirs(contact, CONSENT_YES, moment)
    await reveal_if_mutual(session, base_url, contact, utcnow())
    return contact


async def received_accept(
    session: UnitOfWork,
    base_url: str,
    resident_id: int,
    peer: Peer,
    *,
    local_actor: str,
    remote_actor: str,
    moment: datetime,
) -> Contact:
    """The peer resident says yes. Kept even if this side's request is not known (yet):
    it is their consent only, and contact needs this side's yes as well."""
    contact = await pair_or_new(session, resident_id, peer.id, local_actor, remote_actor)
    if is_closed(contact) or contact.their_consent in ENDED_CONSENTS:
        return contact
    if _newer(contact, moment) or contact.their_consent == CONSENT_NONE:
        _set_theirs(contact, CONSENT_YES, moment)
        await reveal_if_mutual(session, base_url, contact, utcnow())
    return contact


async def received_reject(
    session: AsyncSession,
    resident_id: int,
    peer: Peer,
    *,
    local_actor: str,
    remote_actor: str,
    moment: datetime,
) -> Contact:
    """No to this side's request, or, after a yes, the end of the contact. A no is
    final whenever it arrives, so it needs no ordering (nor a correct clock)."""
    contact = await pair_or_new(session, resident_id, peer.id, local_actor, remote_actor)
    if contact.their_consent in ENDED_CONSENTS:
        return contact
    ended = CONSENT_WITHDRAWN if contact.their_consent == CONSENT_YES else CONSENT_DECLINED
    _set_theirs(contact, ended, max(moment, contact.their_consent_at or moment))
    return contact


async def received_undo(
    session: AsyncSession,
    resident_id: int,
    peer: Peer,
    *,
    follow_id: str,
    local_actor: str,
    remote_actor: str,
    moment: datetime,
) -> Contact:
    """The peer resident takes back their request. If the request has not arrived yet,
    the withdrawal is kept and the late request will find the pair ended."""
    contact = await pair_or_new(session, resident_id, peer.id, local_actor, remote_actor)
    if contact.their_follow_id not in (None, follow_id):
        return contact  # undoes a request this node never took as current
    contact.their_follow_id = follow_id
    if contact.their_consent != CONSENT_WITHDRAWN:
        _set_theirs(contact, CONSENT_WITHDRAWN, max(moment, contact.their_consent_at or moment))
    return contact


def _lifted_block(contact: Contact, moment: datetime) -> bool:
    """A request from a peer resident who had blocked this side, written after the
    block: they lifted it (unblocking sends nothing of its own) and ask afresh."""
    return (
        contact.blocked_by_them
        and not contact.blocked_by_me
        and contact.remote_deleted_at is None
        and contact.left_at is None
        and _newer(contact, moment)
    )


def _reopen(contact: Contact) -> None:
    """The pair starts afresh, as on the blocker's node: this side's earlier yes no
    longer counts (a no stays final), and the names are exchanged anew."""
    contact.blocked_by_them = False
    if contact.my_consent == CONSENT_YES:
        contact.my_consent = CONSENT_NONE
        contact.my_follow_id = None
    contact.their_consent = CONSENT_NONE
    contact.their_follow_id = None
    forget_reveal(contact)


async def received_block(
    session: AsyncSession,
    resident_id: int,
    peer: Peer,
    *,
    local_actor: str,
    remote_actor: str,
    moment: datetime,
) -> Contact:
    """The peer resident blocks. The block's time is kept as their side's latest (the
    peer's clock), so that only a request written after it lifts it, and a block that
    arrives after such a request is recognised as the older one and changes nothing."""
    contact = await pair_or_new(session, resident_id, peer.id, local_actor, remote_actor)
    if contact.their_consent_at is not None and moment <= contact.their_consent_at:
        return contact
    contact.their_consent_at = moment
    if not contact.blocked_by_them:
        contact.blocked_by_them = True
    contact.updated_at = utcnow()
    return contact


async def received_reveal(
    session: AsyncSession, contact: Contact, person: wire.RevealedPerson, moment: datetime
) -> None:
    """Store the other's name and about-text (the newest reveal wins)."""
    if contact.revealed_at is not None and moment <= contact.revealed_at:
        return
    contact.their_name = person.name
    contact.their_about = person.about
    contact.revealed_at = moment
    contact.updated_at = utcnow()


# Departures.


async def remote_resident_left(session: UnitOfWork, actor_url: str) -> None:
    """A peer deleted one of its pseudonym actors (the resident deleted the account):
    every pair with it ends, what it revealed is dropped with the messages its resident
    wrote, and the resident here sees that it is gone. (A withdrawn profile — paused,
    suspended, reset — ends nothing: the contacts continue.)

    Called by the handler of the actor's ``Delete``, in its transaction.
    """
    await erasure.erase_remote_resident(session, actor_url)
    contacts = (
        await session.scalars(
            select(Contact).where(
                Contact.remote_actor == actor_url, Contact.remote_deleted_at.is_(None)
            )
        )
    ).all()
    if not contacts:
        return
    now = utcnow()
    ids = [contact.id for contact in contacts]
    await session.execute(
        delete(Message).where(Message.contact_id.in_(ids), Message.direction == "in")
    )
    for contact in contacts:
        contact.remote_deleted_at = now
        contact.their_name = None
        contact.their_about = None
        contact.updated_at = now
    await session.flush()


async def pseudonyms_withdrawn(session: AsyncSession, actor_urls: Iterable[str]) -> None:
    """This node deleted pseudonym actors of its own (each with a ``Delete`` of the actor
    to the peer, who ends the pairs): end them here too, so that both copies agree for
    good."""
    urls = list(actor_urls)
    if not urls:
        return
    await session.execute(
        update(Contact)
        .where(Contact.local_actor.in_(urls), Contact.left_at.is_(None))
        .values(left_at=utcnow())
        .execution_options(synchronize_session=False)
    )
