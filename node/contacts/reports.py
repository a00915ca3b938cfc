"""Reports about contacts and requests, for the admins who can act on them.

A resident reports a peer resident here (``filed``): this node's admins see it with a
copy of what that person wrote, and the report is forwarded as a ``Flag`` to the
peer, whose admins alone can suspend their resident (``received`` there). The
forwarded report names the pseudonym, a reason code and the ids of the reported
messages, which the peer already holds; the reporter's own words stay here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node import pseudonyms
from node.contacts import _wire as wire
from node.contacts.consent import ContactError, contact_of
from node.contacts.messages import clean_body
from node.federation import outbox
from node.models import Contact, Message, Peer, Report, Resident, utcnow
from node.runtime.db import UnitOfWork

REASONS: tuple[str, ...] = ("spam", "harassment", "inappropriate", "other")
MAX_COMMENT = 2000
MESSAGES_KEPT = 50
STATES: tuple[str, ...] = ("open", "dismissed", "suspended")


def _copy(messages: Sequence[Message]) -> list[dict[str, Any]]:
    return [
        {"id": m.note_id, "body": m.body, "created": m.created_at.isoformat()} for m in messages
    ]


async def file_report(
    session: UnitOfWork,
    base_url: str,
    resident: Resident,
    contact_id: int,
    reason: str,
    comment: str = "",
) -> Report:
    """Report the other side of a contact or request; ContactError ``reason`` or
    ``comment_too_long`` for bad input."""
    contact = await contact_of(session, resident, contact_id)
    if reason not in REASONS:
        raise ContactError("reason")
    comment = clean_body(comment)
    if len(comment) > MAX_COMMENT:
        raise ContactError("comment_too_long")
    written = (
        await session.scalars(
            select(Message)
            .where(Message.contact_id == contact.id, Message.direction == "in")
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(MESSAGES_KEPT)
        )
    ).all()
    report = Report(
        origin="filed",
        reporter_id=resident.id,
        contact_id=contact.id,
        peer_id=contact.peer_id,
        reported_actor=contact.remote_actor,
        reason=reason,
        comment=comment,
        messages=_copy(list(reversed(written))),
        state="open",
        created_at=utcnow(),
    )
    if contact.remote_deleted_at is None:
        activity = wire.flag(
            base_url, contact.remote_actor, reason, [m.note_id for m in written], utcnow()
        )
        await outbox.enqueue(session, peer=contact.peer_id, activity=activity)
        report.activity_id = activity["id"]
    session.add(report)
    await session.flush()
    return report


async def received_report(
    session: AsyncSession,
    base_url: str,
    peer: Peer,
    *,
    activity_id: str,
    reported_actor: str,
    reason: str,
    note_ids: Sequence[str],
) -> Report | None:
    """A peer's ``Flag`` about one of this node's pseudonyms; None if it names none of
    them (or one issued to another peer)."""
    value = pseudonyms.pseudonym_from_url(base_url, reported_actor)
    record = await pseudonyms.lookup(session, value) if value else None
    if record is None or record.peer_id != peer.id:
        return None
    if await session.scalar(select(Report.id).where(Report.activity_id == activity_id)):
        return None
    wanted = [note for note in note_ids if isinstance(note, str)][:MESSAGES_KEPT]
    written = (
        await session.scalars(
            select(Message)
            .join(Contact, Contact.id == Message.contact_id)
            .where(
                Contact.local_actor == reported_actor,
                Message.direction == "out",
                Message.note_id.in_(wanted),
            )
            .order_by(Message.created_at, Message.id)
        )
    ).all()
    report = Report(
        origin="received",
        subject_id=record.resident_id,
        peer_id=peer.id,
        reported_actor=reported_actor,
        activity_id=activity_id,
        reason=reason if reason in REASONS else "other",
        comment="",
        messages=_copy(written),
        state="open",
        created_at=utcnow(),
    )
    session.add(report)
    await session.flush()
    return report


async def reports(session: AsyncSession, state: str | None = "open") -> Sequence[Report]:
    statement = select(Report).order_by(Report.created_at.desc(), Report.id.desc()).limit(200)
    if state is not None:
        statement = statement.where(Report.state == state)
    return (await session.scalars(statement)).all()


async def report(session: AsyncSession, report_id: int) -> Report | None:
    return await session.get(Report, report_id, with_for_update=True)


def close(report: Report, admin: Resident, state: str) -> None:
    report.state = state
    report.handled_by = admin.id
    report.handled_at = utcnow()


async def dismiss(session: AsyncSession, admin: Resident, report_id: int) -> Report | None:
    found = await report(session, report_id)
    if found is not None and found.state == "open":
        close(found, admin, "dismissed")
    return found
