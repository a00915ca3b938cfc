"""The inbox log as stored: which activity ids are stored, and the rows still to apply."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from federation.activities import Activity
from federation.inbox import TrustedKey
from node.models import InboxActivity, Peer


def received(activity: Activity, signer: TrustedKey[Peer], now: datetime) -> dict[str, Any]:
    """The columns of an arrival's row that do not depend on what became of it."""
    return {
        "activity_id": activity.id,
        "peer_id": signer.peer.id,
        "activity_type": activity.type,
        "object_type": activity.object_type,
        "actor": activity.actor,
        "key_fingerprint": signer.fingerprint,
        "payload": activity.document,
        "received_at": now,
        "tries": 1,
    }


async def stored_ids(session: AsyncSession, activity_ids: Iterable[str]) -> set[str]:
    """Which of these activity ids are stored already (one query for a whole batch)."""
    wanted = set(activity_ids)
    if not wanted:
        return set()
    found = await session.scalars(
        select(InboxActivity.activity_id).where(InboxActivity.activity_id.in_(wanted))
    )
    return set(found.all())


async def insert_new(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Insert the rows whose activity id is not stored yet, in one statement; the ids
    inserted. A row stored meanwhile by another transaction is skipped, not an error
    (on PostgreSQL the statement waits for that transaction to end first)."""
    if not rows:
        return set()
    dialect = session.bind.dialect.name if session.bind is not None else ""
    statement = _INSERT_NEW["postgresql" if dialect == "postgresql" else "sqlite"]
    # One cached statement with the rows as parameters (sent as multi-row VALUES): a
    # statement built with the rows in it would be compiled anew for every batch.
    return set((await session.execute(statement, list(rows))).scalars().all())


def _insert_new(build: Any) -> Any:
    table: Any = InboxActivity.__table__
    return (
        build(table)
        .on_conflict_do_nothing(index_elements=[table.c.activity_id])
        .returning(table.c.activity_id)
    )


_INSERT_NEW = {"postgresql": _insert_new(postgresql_insert), "sqlite": _insert_new(sqlite_insert)}


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
