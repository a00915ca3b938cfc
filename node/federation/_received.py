"""The inbox log as stored: deduplication by activity id and the rows still to apply."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.models import InboxActivity


async def seen(session: AsyncSession, activity_id: str) -> bool:
    return bool(
        await session.scalar(select(exists().where(InboxActivity.activity_id == activity_id)))
    )


async def due_ids(session: AsyncSession, now: datetime, limit: int) -> Sequence[int]:
    """Pending rows whose next try is due, oldest first (arrival order helps handlers)."""
    return (
        await session.scalars(
            select(InboxActivity.id)
            .where(InboxActivity.state == "pending", InboxActivity.next_try_at <= now)
            .order_by(InboxActivity.id)
            .limit(limit)
        )
    ).all()


async def lock_pending(session: AsyncSession, row_id: int) -> InboxActivity | None:
    """The row, locked for this transaction, if it is still pending and no other worker
    holds it."""
    return await session.scalar(
        select(InboxActivity)
        .where(InboxActivity.id == row_id, InboxActivity.state == "pending")
        .with_for_update(skip_locked=True)
    )
