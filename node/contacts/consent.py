"""Double opt-in contact: the transitions of a contact, from this node's resident and
from the peer resident, each writing its activity to the outbox in the caller's
transaction.

The resident's side (``request_contact``, ``answer_request``, ``withdraw``,
``block``) sends ``Follow``, ``Accept`` / ``Reject``, ``Undo`` (or ``Reject`` after
having accepted) and ``Block``; the peer's side is :mod:`node.contacts.remote_consent`.
Declining, withdrawing and leaving end a pair for good; a block lasts until the
blocker lifts it (``unblock``), which sends nothing and restores nothing.

The moment both sides say yes, this node reveals its resident to the other (the
``Update`` of the contact-scoped ``Person``), once; nothing personal is sent before.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocabulary import Reject, Undo
from matching.gates import KindGates
from node import pseudonyms
from node.contacts import _wire as wire
from node.contacts import gates
from node.federation import outbox
from node.models import Contact, Peer, Profile, Pseudonym, RemoteProfile, Resident, utcnow
from node.models.contacts import CONSENT_DECLINED, CONSENT_NONE, CONSENT_WITHDRAWN, CONSENT_YES
from node.runtime.db import UnitOfWork

ENDED_CONSENTS = (CONSENT_DECLINED, CONSENT_WITHDRAWN)


class ContactError(Exception):
    """An action the contact's state does not allow; ``code`` tells the page which."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def is_mutual(contact: Contact) -> bool:
    """Consent on both sides and nothing that ended the pair: names and messages may
    cross (both nodes check this, each on its own copy)."""
    return (
        contact.my_consent == CONSENT_YES
        and contact.their_consent == CONSENT_YES
        and not is_closed(contact)
    )


def is_closed(contact: Contact) -> bool:
    return bool(
        contact.blocked_by_me
        or contact.blocked_by_them
        or contact.remote_deleted_at is not None
        or contact.left_at is not None
    )


def still_open() -> ColumnElement[bool]:
    """``not is_closed(contact)`` as a query condition, for counting and listing pairs."""
    return and_(
        Contact.blocked_by_me.is_(False),
        Contact.blocked_by_them.is_(False),
        Contact.remote_deleted_at.is_(None),
        Contact.left_at.is_(None),
    )


def standing(contact: Contact) -> str:
    """One word for pages: deleted, left, blocked, ended, mutual, declined, withdrawn,
    pending (someone still has to answer) or none."""
    if contact.remote_deleted_at is not None:
        return "deleted"
    if contact.left_at is not None:
        return "left"
    if contact.blocked_by_me:
        return "blocked"
    if contact.blocked_by_them:
        return "ended"
    if is_mutual(contact):
        return "mutual"
    sides = (contact.my_consent, contact.their_consent)
    if CONSENT_WITHDRAWN in sides:
        return "withdrawn"
    if CONSENT_DECLINED in sides:
        return "declined"
    if CONSENT_YES in sides:
        return "pending"
    return "none"


# Finding rows.


async def contact_of(session: AsyncSession, resident: Resident, contact_id: int) -> Contact:
    """The resident's own contact, or ContactError("not_found") (never someone else's)."""
    contact = await session.get(Contact, contact_id, with_for_update=True)
    if contact is None or contact.resident_id != resident.id:
        raise ContactError("not_found")
    return contact


async def pair(session: AsyncSession, local_actor: str, remote_actor: str) -> Contact | None:
    return await session.scalar(
        select(Contact)
        .where(Contact.local_actor == local_actor, Contact.remote_actor == remote_actor)
        .with_for_update()
    )


async def pair_or_new(
    session: AsyncSession, resident_id: int, peer_id: int, local_actor: str, remote_actor: str
) -> Contact:
    found = await pair(session, local_actor, remote_actor)
    if found is not None:
        return found
    contact = Contact(
        resident_id=resident_id,
        peer_id=peer_id,
        local_actor=local_actor,
        remote_actor=remote_actor,
        my_consent=CONSENT_NONE,
        their_consent=CONSENT_NONE,
        blocked_by_me=False,
        blocked_by_them=False,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    try:
        async with session.begin_nested():
            session.add(contact)
            await session.flush()
    except IntegrityError:
        # The other side's activity created the same pair a moment ago.
        found = await pair(session, local_actor, remote_actor)
        if found is None:
            raise
        return found
    return contact


async def current_pseudonym(session: AsyncSession, resident: Resident, peer_id: int) -> str | None:
    """The resident's published pseudonym towards the peer, if they are published there."""
    return await session.scalar(
        select(Pseudonym.pseudonym).where(
            Pseudonym.resident_id == resident.id,
            Pseudonym.peer_id == peer_id,
            Pseudonym.epoch == resident.pseudonym_epoch,
            Pseudonym.withdrawn_at.is_(None),
        )
    )


async def local_resident_for(
    session: AsyncSession, base_url: str, actor: str, peer: Peer
) -> int | None:
    """The resident behind one of this node's pseudonym actors, if that pseudonym was
    issued towards ``peer`` and its actor is not deleted (else None: gone, or not
    theirs). A pseudonym whose profile is withdrawn (paused, or an older one after a
    reset) still counts: the contacts made under it continue."""
    value = pseudonyms.pseudonym_from_url(base_url, actor)
    if value is None:
        return None
    record = await pseudonyms.lookup(session, value)
    if record is None or record.retired or record.peer_id != peer.id:
        return None
    return record.resident_id


async def is_current_pseudonym(session: AsyncSession, base_url: str, actor: str) -> bool:
    """Whether ``actor`` is a pseudonym of the resident's current epoch: one a new contact
    may start with. An older one (before a reset) only carries the contacts made under
    it, so that nothing new links the new pseudonym's resident to the old one."""
    value = pseudonyms.pseudonym_from_url(base_url, actor)
    if value is None:
        return False
    found = await session.scalar(
        select(Pseudonym.id)
        .join(Resident, Resident.id == Pseudonym.resident_id)
        .where(Pseudonym.pseudonym == value, Pseudonym.epoch == Resident.pseudonym_epoch)
    )
    return found is not None


# The resident's own actions.


async def request_contact(
    session: UnitOfWork,
    base_url: str,
    resident: Resident,
    remote_actor: str,
    *,
    kind_gates: KindGates,
) -> Contact:
    """Ask a suggested peer resident for contact (``Follow``); mutual at once if they
    asked first. Asking again changes nothing.

    Only a pair that passes the matching gates (``kind_gates``: the node's configured
    ones, ``match_settings(config).kind_gates``) may be asked: an actor URL posted by
    hand is refused (``not_a_match``) before anything is stored or queued, and the
    peer's inbox would refuse the ``Follow`` anyway."""
    remote = await session.scalar(
        select(RemoteProfile).where(RemoteProfile.actor_url == remote_actor)
    )
    if remote is None:
        raise ContactError("unknown_profile")
    pseudonym = await current_pseudonym(session, resident, remote.peer_id)
    if pseudonym is None:
        raise ContactError("not_published")
    local_actor = pseudonyms.actor_url(base_url, pseudonym)
    failed = await gates.refusal(
        session, resident.id, local_actor, remote_actor, remote.peer_id, kind_gates
    )
    if failed == gates.NO_PROFILE:
        raise ContactError("not_published")
    if failed is not None:
        raise ContactError("not_a_match")
    contact = await pair_or_new(session, resident.id, remote.peer_id, local_actor, remote_actor)
    _require_open(contact)
    if contact.my_consent in ENDED_CONSENTS or contact.their_consent in ENDED_CONSENTS:
        raise ContactError("ended")
    if contact.my_consent == CONSENT_YES:
        return contact
    now = utcnow()
    activity = wire.follow(base_url, local_actor, remote_actor, now)
    await outbox.enqueue(session, peer=contact.peer_id, activity=activity)
    contact.my_follow_id = activity["id"]
    _set_mine(contact, CONSENT_YES, now)
    await reveal_if_mutual(session, base_url, contact, now)
    return contact


async def answer_request(
    session: UnitOfWork, base_url: str, resident: Resident, contact_id: int, *, accept: bool
) -> Contact:
    """Say yes (``Accept``) or no (``Reject``) to a request received."""
    contact = await contact_of(session, resident, contact_id)
    _require_open(contact)
    if contact.their_follow_id is None or contact.their_consent != CONSENT_YES:
        raise ContactError("not_requested")
    if contact.my_consent == (CONSENT_YES if accept else CONSENT_DECLINED):
        return contact
    if contact.my_consent != CONSENT_NONE:
        raise ContactError("already_answered")
    now = utcnow()
    kind: Literal["Accept", "Reject"] = "Accept" if accept else "Reject"
    activity = wire.answer(
        base_url, kind, contact.local_actor, contact.remote_actor, contact.their_follow_id, now
    )
    await outbox.enqueue(session, peer=contact.peer_id, activity=activity)
    _set_mine(contact, CONSENT_YES if accept else CONSENT_DECLINED, now)
    await reveal_if_mutual(session, base_url, contact, now)
    return contact


async def withdraw(
    session: UnitOfWork, base_url: str, resident: Resident, contact_id: int
) -> Contact:
    """Take back one's yes: ``Undo`` of one's own request, or, for a request one had
    accepted, its ``Reject`` (the peer reads a Reject after a yes as withdrawal)."""
    contact = await contact_of(session, resident, contact_id)
    if contact.my_consent == CONSENT_WITHDRAWN:
        return contact
    if contact.my_consent != CONSENT_YES:
        raise ContactError("nothing_to_withdraw")
    now = utcnow()
    if not is_closed(contact):
        activity: Undo | Reject
        if contact.my_follow_id is not None:
            activity = wire.undo(
                base_url, contact.local_actor, contact.remote_actor, contact.my_follow_id, now
            )
        else:
            assert contact.their_follow_id is not None
            activity = wire.answer(
                base_url,
                "Reject",
                contact.local_actor,
                contact.remote_actor,
                contact.their_follow_id,
                now,
            )
        await outbox.enqueue(session, peer=contact.peer_id, activity=activity)
    _set_mine(contact, CONSENT_WITHDRAWN, now)
    return contact


async def block(session: UnitOfWork, base_url: str, resident: Resident, contact_id: int) -> Contact:
    """End the pair for good and tell the peer (``Block``): no request, reveal or
    message of that pseudonym is taken any more, on either node."""
    contact = await contact_of(session, resident, contact_id)
    if contact.blocked_by_me:
        return contact
    now = utcnow()
    if contact.remote_deleted_at is None and contact.left_at is None:
        activity = wire.block(base_url, contact.local_actor, contact.remote_actor, now)
        await outbox.enqueue(session, peer=contact.peer_id, activity=activity)
    contact.blocked_by_me = True
    contact.updated_at = now
    return contact


async def unblock(session: UnitOfWork, resident: Resident, contact_id: int) -> Contact:
    """Lift the resident's own block. The contact does not come back: the pair starts
    afresh, as if nobody had asked yet, except that a no the other had said stays
    final. Nothing is sent, so the other learns neither of the block nor of its end;
    their node lifts its side only when this resident asks again (a ``Follow`` newer
    than the ``Block``, see :func:`node.contacts.remote_consent.received_follow`).
    Until then only this resident can start a new request."""
    contact = await contact_of(session, resident, contact_id)
    if not contact.blocked_by_me:
        raise ContactError("not_blocked")
    now = utcnow()
    contact.blocked_by_me = False
    _set_mine(contact, CONSENT_NONE, now)
    contact.my_follow_id = None
    if contact.their_consent == CONSENT_YES:
        contact.their_consent = CONSENT_NONE
        contact.their_follow_id = None
    forget_reveal(contact)
    return contact


def forget_reveal(contact: Contact) -> None:
    """A pair that starts afresh: no mutual moment, and the other's name and about-text
    (revealed for the contact that ended) are dropped; a new mutual yes reveals anew."""
    contact.mutual_since = None
    contact.their_name = None
    contact.their_about = None
    contact.revealed_at = None


def _require_open(contact: Contact) -> None:
    if contact.blocked_by_me:
        raise ContactError("blocked")
    if is_closed(contact):
        raise ContactError("ended")


def _set_mine(contact: Contact, consent: str, now: datetime) -> None:
    contact.my_consent = consent
    contact.my_consent_at = now
    contact.updated_at = now


async def reveal_if_mutual(
    session: UnitOfWork, base_url: str, contact: Contact, now: datetime
) -> None:
    """On the first moment of mutual consent, send this side's name (and about-text,
    if the resident chose to show it) to the other pseudonym only."""
    if not is_mutual(contact) or contact.mutual_since is not None:
        return
    contact.mutual_since = now
    resident = await session.get(Resident, contact.resident_id)
    if resident is None:
        return
    profile = await session.get(Profile, resident.id)
    about = profile.about.strip() if profile is not None and profile.show_about else ""
    activity = wire.reveal(
        base_url, contact.local_actor, contact.remote_actor, resident.display_name, about, now
    )
    await outbox.enqueue(session, peer=contact.peer_id, activity=activity)
