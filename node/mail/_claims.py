"""Claiming and settling queued mails, safe with several workers on PostgreSQL.

A worker claims due rows (``SELECT … FOR UPDATE SKIP LOCKED``), marks them
``sending`` with a lease and commits; it sends them without holding any lock and
settles each in its own short transaction, only if its claim still stands. A
worker killed mid-send leaves its rows ``sending``; once the lease runs out they
are claimable again (a mail may then go twice, never zero times). On SQLite
``FOR UPDATE`` is not rendered: there every write transaction begins with
``BEGIN IMMEDIATE``, which serialises claims just the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select

from node.models import QueuedMail
from node.runtime.db import UnitOfWork


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(QueuedMail.state == "pending", QueuedMail.next_try_at <= now),
        and_(QueuedMail.state == "sending", QueuedMail.lease_until <= now),
    )


async def claim(
    uow: UnitOfWork, *, now: datetime, lease: timedelta, worker: str, limit: int
) -> Sequence[QueuedMail]:
    rows = (
        await uow.scalars(
            select(QueuedMail)
            .where(_claimable(now))
            .order_by(QueuedMail.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for row in rows:
        row.state = "sending"
        row.lease_until = now + lease
        row.claimed_by = worker
    return rows


async def ours(uow: UnitOfWork, row_id: int, worker: str) -> QueuedMail | None:
    """The row, locked, if this worker's claim on it still stands."""
    return await uow.scalar(
        select(QueuedMail)
        .where(
            QueuedMail.id == row_id,
            QueuedMail.state == "sending",
            QueuedMail.claimed_by == worker,
        )
        .with_for_update()
    )
