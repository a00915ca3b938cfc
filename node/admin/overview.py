"""What the node's admins see and do: the admin role, peers and their federation
state, the delivery queue, counts, and suspending a resident after a report.

Suspension takes the resident out of everything at once: they cannot log in, their
sessions end, and their pseudonyms are withdrawn through the same publication that
a paused profile goes through (peers receive the ``Delete`` and end their contacts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.accounts import accounts, sessions
from node.contacts.consent import still_open
from node.contacts.reports import close, report
from node.federation.outbox import OutboxQueued
from node.models import (
    Contact,
    InboxActivity,
    Message,
    OutboxActivity,
    Peer,
    PublishedVector,
    Report,
    Resident,
    utcnow,
)
from node.runtime.db import UnitOfWork
from node.vectors.activities import Publisher
from node.vectors.publication import publish_changes

ADMIN_ROLE = "admin"
RESIDENT_ROLE = "resident"
QUEUE_STATES: tuple[str, ...] = ("pending", "failed")


def is_admin(resident: Resident | None) -> bool:
    return resident is not None and resident.role == ADMIN_ROLE and resident.status == "active"


async def set_role(session: AsyncSession, email: str, admin: bool) -> Resident | None:
    """Grant or revoke the admin role by e-mail address; None if there is no account."""
    resident = await accounts.find_by_email(session, email)
    if resident is not None:
        resident.role = ADMIN_ROLE if admin else RESIDENT_ROLE
    return resident


async def admins(session: AsyncSession) -> Sequence[Resident]:
    return (
        await session.scalars(
            select(Resident).where(Resident.role == ADMIN_ROLE).order_by(Resident.email)
        )
    ).all()


@dataclass(frozen=True, slots=True)
class Counts:
    residents: int
    profiles_shared: int
    contacts: int
    messages: int
    open_reports: int


async def _count(session: AsyncSession, statement: object) -> int:
    return int(await session.scalar(statement) or 0)  # type: ignore[call-overload]


async def counts(session: AsyncSession) -> Counts:
    mutual = select(func.count(Contact.id)).where(
        Contact.mutual_since.is_not(None),
        Contact.my_consent == "yes",
        Contact.their_consent == "yes",
        still_open(),
    )
    return Counts(
        residents=await _count(session, select(func.count(Resident.id))),
        profiles_shared=await _count(session, select(func.count(PublishedVector.resident_id))),
        contacts=await _count(session, mutual),
        messages=await _count(session, select(func.count(Message.id))),
        open_reports=await _count(
            session, select(func.count(Report.id)).where(Report.state == "open")
        ),
    )


@dataclass(frozen=True, slots=True)
class PeerStatus:
    peer: Peer
    pending: int
    failed: int
    inbox_pending: int


async def peer_statuses(session: AsyncSession) -> list[PeerStatus]:
    peers = (await session.scalars(select(Peer).order_by(Peer.id))).all()
    queued = {
        (peer_id, state): int(n)
        for peer_id, state, n in (
            await session.execute(
                select(OutboxActivity.peer_id, OutboxActivity.state, func.count())
                .where(OutboxActivity.state.in_(("pending", "sending", "failed")))
                .group_by(OutboxActivity.peer_id, OutboxActivity.state)
            )
        ).all()
    }
    waiting = {
        peer_id: int(n)
        for peer_id, n in (
            await session.execute(
                select(InboxActivity.peer_id, func.count())
                .where(InboxActivity.state == "pending")
                .group_by(InboxActivity.peer_id)
            )
        ).all()
    }
    return [
        PeerStatus(
            peer=peer,
            pending=queued.get((peer.id, "pending"), 0) + queued.get((peer.id, "sending"), 0),
            failed=queued.get((peer.id, "failed"), 0),
            inbox_pending=waiting.get(peer.id, 0),
        )
        for peer in peers
    ]


@dataclass(frozen=True, slots=True)
class QueuedDelivery:
    row: OutboxActivity
    peer_name: str


async def queue(session: AsyncSession, state: str, limit: int = 200) -> list[QueuedDelivery]:
    """Deliveries in ``state`` (``pending`` includes those being sent right now)."""
    states = ("pending", "sending") if state == "pending" else (state,)
    rows = await session.execute(
        select(OutboxActivity, Peer.name, Peer.actor_url)
        .join(Peer, Peer.id == OutboxActivity.peer_id)
        .where(OutboxActivity.state.in_(states))
        .order_by(OutboxActivity.id)
        .limit(limit)
    )
    return [QueuedDelivery(row=row, peer_name=name or url) for row, name, url in rows.all()]


async def retry(session: UnitOfWork, row_id: int) -> bool:
    """Send a delivery again now, with a fresh lifetime (after the cause was fixed)."""
    row = await session.get(OutboxActivity, row_id, with_for_update=True)
    if row is None or row.state not in ("pending", "failed"):
        return False
    now = utcnow()
    row.state = "pending"
    row.next_try_at = now
    row.tries = 0
    row.created_at = now
    row.last_error = None
    row.lease_until = None
    peer = await session.get(Peer, row.peer_id)
    if peer is not None:
        peer.next_attempt_at = None
    session.record(OutboxQueued())
    return True


async def discard(session: AsyncSession, row_id: int) -> bool:
    """Drop a delivery that is not being sent right now; it will not be tried again."""
    result = await session.execute(
        delete(OutboxActivity)
        .where(OutboxActivity.id == row_id, OutboxActivity.state.in_(("pending", "failed")))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def suspend_resident(session: UnitOfWork, resident: Resident, publisher: Publisher) -> None:
    resident.status = "suspended"
    await sessions.destroy_sessions_of(session, resident.id)
    await session.flush()
    await publish_changes(session, publisher, changed=[resident.id])


async def suspend_for_report(
    session: UnitOfWork, admin: Resident, report_id: int, publisher: Publisher
) -> Report | None:
    """Suspend the resident a received report is about, and close the report."""
    found = await report(session, report_id)
    if found is None or found.origin != "received" or found.state != "open":
        return found
    if found.subject_id is not None:
        subject = await session.get(Resident, found.subject_id)
        if subject is not None and subject.status == "active":
            await suspend_resident(session, subject, publisher)
    close(found, admin, "suspended")
    return found
