"""Messages between two residents in contact: plain text, at most 5,000 characters,
sent as a ``Create`` of a ``Note`` only while consent is mutual and unblocked.

Every message is stored under the id of its activity, so a delivery repeated by the
network (or by a faulty peer) is kept once and mailed about once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from node.contacts import _wire as wire
from node.contacts import notices
from node.contacts.consent import ContactError, contact_of, is_mutual
from node.federation import outbox
from node.models import Contact, Message, Resident, utcnow
from node.runtime.db import UnitOfWork

MAX_LENGTH = wire.MAX_MESSAGE_LENGTH
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_body(raw: str) -> str:
    """Unified line ends, no control characters (they only hide things), no blank edges."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


async def send_message(
    session: UnitOfWork, base_url: str, resident: Resident, contact_id: int, body: str
) -> Message:
    """Queue a message to the contact; ContactError ``not_mutual``, ``empty`` or
    ``too_long`` refuses it (this node never sends what the other would have to reject)."""
    contact = await contact_of(session, resident, contact_id)
    if not is_mutual(contact):
        raise ContactError("not_mutual")
    text = clean_body(body)
    if not text:
        raise ContactError("empty")
    if len(text) > MAX_LENGTH:
        raise ContactError("too_long")
    now = utcnow()
    activity = wire.note(base_url, contact.local_actor, contact.remote_actor, text, now)
    await outbox.enqueue(session, peer=contact.peer_id, activity=activity)
    message = Message(
        contact_id=contact.id,
        direction="out",
        activity_id=activity["id"],
        note_id=activity["object"]["id"],
        body=text,
        created_at=now,
        received_at=now,
        read_at=now,
        notify="none",
    )
    session.add(message)
    contact.updated_at = now
    await session.flush()
    return message


async def received_message(
    session: UnitOfWork,
    contact: Contact,
    *,
    activity_id: str,
    note: wire.IncomingNote,
    written_at: datetime,
) -> Message | None:
    """Store an incoming message once; None when it is a repetition."""
    known = await session.scalar(
        select(Message.id).where(
            or_(Message.activity_id == activity_id, Message.note_id == note.id)
        )
    )
    if known is not None:
        return None
    resident = await session.get(Resident, contact.resident_id)
    wants_mail = resident is not None and resident.notify_messages
    message = Message(
        contact_id=contact.id,
        direction="in",
        activity_id=activity_id,
        note_id=note.id,
        body=clean_body(note.body),
        created_at=min(written_at, utcnow()),
        received_at=utcnow(),
        notify="pending" if wants_mail else "none",
    )
    try:
        async with session.begin_nested():
            session.add(message)
            await session.flush()
    except IntegrityError:
        return None
    contact.updated_at = utcnow()
    await notices.message_arrived(session, contact)
    return message


@dataclass(frozen=True, slots=True)
class Conversation:
    contact: Contact
    messages: Sequence[Message]
    unseen: bool = False
    """Something here is new to the resident: an unread message, a message still
    waiting for its mail, or an unseen notice of the contact."""
    read_at: datetime | None = None
    """When it was read (the moment before the query), for :func:`mark_seen`."""


_MESSAGES_OF = (
    select(Message)
    .where(Message.contact_id == bindparam("contact"))
    .order_by(Message.created_at, Message.id)
)
"""Built once: every view of a conversation asks it."""


async def conversation(session: AsyncSession, resident: Resident, contact_id: int) -> Conversation:
    """The messages of one contact, oldest first, and whether opening it changes
    anything (:func:`mark_seen`). Only reads: most views of a conversation find
    nothing new, and those must not queue for the write lock."""
    now = utcnow()
    contact = await session.get(Contact, contact_id)  # no row lock: a read
    if contact is None or contact.resident_id != resident.id:
        raise ContactError("not_found")
    messages = (await session.scalars(_MESSAGES_OF, {"contact": contact.id})).all()
    unseen = any(m.read_at is None or m.notify == "pending" for m in messages)
    if not unseen:
        unseen = await notices.conversation_unseen(session, resident.id, contact.id)
    return Conversation(contact=contact, messages=messages, unseen=unseen, read_at=now)


async def mark_seen(session: AsyncSession, resident: Resident, shown: Conversation) -> None:
    """The resident saw ``shown``: its messages are read, its notices seen, and mail
    about them no longer needed. A message or notice that arrived after the page read
    them stays new."""
    contact = shown.contact
    ids = [m.id for m in shown.messages if m.read_at is None or m.notify == "pending"]
    await notices.conversation_seen(
        session, resident.id, contact.id, message_ids=ids, until=shown.read_at
    )
    unread = [m.id for m in shown.messages if m.read_at is None]
    if unread:
        await session.execute(
            update(Message)
            .where(
                Message.contact_id == contact.id,
                Message.read_at.is_(None),
                Message.id.in_(unread),
            )
            .values(read_at=utcnow())
            .execution_options(synchronize_session=False)
        )


async def unread_counts(session: AsyncSession, resident: Resident) -> dict[int, int]:
    """Unread incoming messages per contact id (contacts without any are left out)."""
    rows = await session.execute(
        select(Message.contact_id, func.count(Message.id))
        .join(Contact, Contact.id == Message.contact_id)
        .where(
            Contact.resident_id == resident.id,
            Message.direction == "in",
            Message.read_at.is_(None),
        )
        .group_by(Message.contact_id)
    )
    return {contact_id: int(count) for contact_id, count in rows.all()}


async def unread_total(session: AsyncSession, resident: Resident) -> int:
    return sum((await unread_counts(session, resident)).values())
