"""Telling a resident what happened with their contacts, so that no request goes
unnoticed: a notice on the dashboard and a count in the menu until they have seen it,
and (through :mod:`._notifications`) a mail, if they want one.

Everything that asks for a notice happens on this node's side of a pair when the
peer resident acts — asks (``Follow``), says yes to this resident's request
(``Accept``, or their own ``Follow`` crossing it), writes (``Create`` of a
``Note``) — so the inbox handlers record them, in the inbox transaction: a
repeated delivery finds the notice already there and adds nothing. A notice is
shown only while its contact is open (and a request only while it waits for an
answer), so a withdrawn, answered or blocked request, or a contact that left,
needs no clean-up here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from node.contacts.consent import is_closed, is_mutual, still_open
from node.models import Contact, Message, Notice, Resident, utcnow
from node.models.contacts import CONSENT_NONE, CONSENT_YES
from node.models.notifications import NOTICE_ACCEPTANCE, NOTICE_MESSAGE, NOTICE_REQUEST
from node.runtime.db import UnitOfWork

REQUESTS_PATH = "/contacts/requests"
CONTACTS_PATH = "/contacts"
SHOWN = 50


@dataclass(frozen=True, slots=True)
class MailPending:
    """A notice waits for its mail: the notification worker should look now."""


def wants_mail(resident: Resident, kind: str) -> bool:
    """Whether the resident switched this kind of mail on (and can receive mail)."""
    if resident.status != "active":
        return False
    if kind == NOTICE_REQUEST:
        return resident.notify_requests
    if kind == NOTICE_ACCEPTANCE:
        return resident.notify_acceptances
    return resident.notify_messages


def set_preferences(
    resident: Resident, *, requests: bool, acceptances: bool, messages: bool
) -> None:
    resident.notify_requests = requests
    resident.notify_acceptances = acceptances
    resident.notify_messages = messages


# Recording (inbox handlers, in the inbox transaction).


@dataclass(frozen=True, slots=True)
class Before:
    """Where the pair stood before an incoming consent activity changed it (a yes of
    theirs in a pair that had ended does not count: asking again after lifting a
    block is a new request)."""

    their_yes: bool
    mutual: bool

    @classmethod
    def of(cls, contact: Contact | None) -> Before:
        if contact is None:
            return cls(their_yes=False, mutual=False)
        their_yes = contact.their_consent == CONSENT_YES and not is_closed(contact)
        return cls(their_yes=their_yes, mutual=is_mutual(contact))


async def consent_arrived(session: UnitOfWork, before: Before, contact: Contact) -> None:
    """After a ``Follow`` or ``Accept`` of the peer resident: a new request waiting for
    this resident's answer, or the yes to this resident's own request."""
    if not before.mutual and is_mutual(contact) and contact.my_follow_id is not None:
        await _record(session, contact, NOTICE_ACCEPTANCE)
    elif (
        not before.their_yes
        and contact.their_consent == CONSENT_YES
        and contact.my_consent == CONSENT_NONE
        and not is_closed(contact)
    ):
        await _record(session, contact, NOTICE_REQUEST)


async def message_arrived(session: UnitOfWork, contact: Contact) -> None:
    """A new message was stored (once: repetitions never get here)."""
    await _record(session, contact, NOTICE_MESSAGE)


async def _record(session: UnitOfWork, contact: Contact, kind: str) -> None:
    """Add one event to the contact's notice of that kind: messages add up while
    unseen; a request or an acceptance (told only on the change that makes it, so a
    repetition never gets here) starts its notice afresh."""
    resident = await session.get(Resident, contact.resident_id)
    if resident is None:
        return
    mail = 1 if wants_mail(resident, kind) else 0
    now = utcnow()
    notice = await _notice(session, contact.id, kind)
    if notice is None:
        try:
            async with session.begin_nested():
                session.add(
                    Notice(
                        resident_id=resident.id,
                        contact_id=contact.id,
                        kind=kind,
                        count=1,
                        unmailed=mail,
                        created_at=now,
                        updated_at=now,
                    )
                )
                await session.flush()
        except IntegrityError:
            # Recorded a moment ago by a parallel delivery to the same pair.
            notice = await _notice(session, contact.id, kind)
            if notice is None:
                raise
            _add(notice, mail, now)
    else:
        _add(notice, mail, now)
    if mail:
        session.record(MailPending())


def _add(notice: Notice, mail: int, now: datetime) -> None:
    if notice.kind != NOTICE_MESSAGE:
        # A pair that started afresh (a block lifted) asks or answers anew.
        notice.created_at = now
        notice.reminded_at = None
    if notice.seen_at is not None or notice.kind != NOTICE_MESSAGE:
        notice.seen_at = None
        notice.count = 1
        notice.unmailed = mail
    else:
        notice.count += 1
        notice.unmailed += mail
    notice.updated_at = now


async def _notice(session: AsyncSession, contact_id: int, kind: str) -> Notice | None:
    return await session.scalar(
        select(Notice)
        .where(Notice.contact_id == contact_id, Notice.kind == kind)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


# Seeing.


async def requests_seen(session: AsyncSession, resident_id: int) -> None:
    """The resident opened the requests page: it shows every request and the answers
    to their own."""
    await _seen(session, resident_id, Notice.kind.in_((NOTICE_REQUEST, NOTICE_ACCEPTANCE)))


async def requests_unseen(session: AsyncSession, resident_id: int) -> bool:
    """Whether opening the requests page would mark a notice seen."""
    found = await session.scalar(
        select(Notice.id)
        .where(
            Notice.resident_id == resident_id,
            Notice.seen_at.is_(None),
            Notice.kind.in_((NOTICE_REQUEST, NOTICE_ACCEPTANCE)),
        )
        .limit(1)
    )
    return found is not None


async def conversation_seen(
    session: AsyncSession,
    resident_id: int,
    contact_id: int,
    *,
    message_ids: Sequence[int] | None = None,
    until: datetime | None = None,
) -> None:
    """The resident opened the conversation: its messages and the contact's yes are
    seen, and a mail about them is no longer needed. ``message_ids`` and ``until``
    limit it to what the page showed (the messages, and notices last changed before
    it read them)."""
    which = and_(
        Notice.contact_id == contact_id,
        Notice.kind.in_((NOTICE_ACCEPTANCE, NOTICE_MESSAGE)),
    )
    if until is not None:
        which = and_(which, Notice.updated_at <= until)
    await _seen(session, resident_id, which)
    pending = and_(Message.contact_id == contact_id, Message.notify == "pending")
    if message_ids is not None:
        if not message_ids:
            return
        pending = and_(pending, Message.id.in_(message_ids))
    await session.execute(
        update(Message)
        .where(pending)
        .values(notify="none")
        .execution_options(synchronize_session=False)
    )


_CONVERSATION_UNSEEN = (
    select(Notice.id)
    .where(
        Notice.resident_id == bindparam("resident"),
        Notice.contact_id == bindparam("contact"),
        Notice.seen_at.is_(None),
        Notice.kind.in_((NOTICE_ACCEPTANCE, NOTICE_MESSAGE)),
    )
    .limit(1)
)
"""Built once: every view of a conversation asks it."""


async def conversation_unseen(session: AsyncSession, resident_id: int, contact_id: int) -> bool:
    """Whether opening the conversation would mark a notice of it seen."""
    found = await session.scalar(
        _CONVERSATION_UNSEEN, {"resident": resident_id, "contact": contact_id}
    )
    return found is not None


async def _seen(session: AsyncSession, resident_id: int, which: ColumnElement[bool]) -> None:
    await session.execute(
        update(Notice)
        .where(Notice.resident_id == resident_id, Notice.seen_at.is_(None), which)
        .values(seen_at=utcnow(), unmailed=0)
        .execution_options(synchronize_session=False)
    )


# Showing.


def still_relevant() -> ColumnElement[bool]:
    """A notice's contact is open, and a request still waits for the answer."""
    return and_(
        still_open(),
        or_(
            Notice.kind != NOTICE_REQUEST,
            and_(Contact.my_consent == CONSENT_NONE, Contact.their_consent == CONSENT_YES),
        ),
    )


@dataclass(frozen=True, slots=True)
class NoticeView:
    kind: str
    count: int
    contact_id: int
    name: str | None
    at: datetime

    @property
    def link(self) -> str:
        if self.kind == NOTICE_REQUEST:
            return REQUESTS_PATH
        return f"{CONTACTS_PATH}/{self.contact_id}"


@dataclass(frozen=True, slots=True)
class Unseen:
    """What the resident has not seen yet: the notices, newest first, and the number
    of events they stand for (the count in the menu)."""

    notices: Sequence[NoticeView]
    total: int


_UNSEEN = (
    select(Notice.kind, Notice.count, Notice.contact_id, Contact.their_name, Notice.updated_at)
    .join(Contact, Contact.id == Notice.contact_id)
    .where(Notice.resident_id == bindparam("resident"), Notice.seen_at.is_(None), still_relevant())
    .order_by(Notice.updated_at.desc(), Notice.id.desc())
    .limit(SHOWN)
)
"""Built once: every page view of someone logged in asks it."""


async def unseen(session: AsyncSession, resident_id: int) -> Unseen:
    rows = (await session.execute(_UNSEEN, {"resident": resident_id})).all()
    views = [
        NoticeView(kind=kind, count=count, contact_id=contact_id, name=name, at=at)
        for kind, count, contact_id, name, at in rows
    ]
    return Unseen(notices=views, total=sum(view.count for view in views))
