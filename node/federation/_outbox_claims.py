"""Claiming and settling outbox rows, safe with several workers on PostgreSQL.

A worker claims, per ready peer, the peer's oldest open row if it is due (``SELECT
… FOR UPDATE SKIP LOCKED``) plus the rows right behind it, marks them ``sending``
with a lease and commits; then it sends them in order without holding any lock,
and settles the batch in one transaction. Per-peer order: a row is a head only
when no older row to the same peer is still open (pending or sending), so row
n+1 never overtakes row n, whether row n is in flight or waiting for its next
try. While a peer's head row is open no other worker can claim anything of that
peer: a second worker running the same query skips the locked head and, seeing
it open, cannot take the rows behind it either.

A worker killed mid-batch leaves its rows ``sending``; once the lease runs out
they are claimable again and are sent once more — the receiver deduplicates by
activity id, so the effect is exactly once. A worker that is slow renews its
lease before it could run out.

Announcements first: a row with ``sign_with`` set (the ``Update`` of the actor that
``zwilling keys rotate`` queues, signed with the key the peer already trusts) goes
before the peer's other open rows, whatever their age. Those are signed with the
node's current key, which the peer trusts only once the announcement arrived. A row
in flight (``sending`` under a live lease) is never overtaken, so the announcement
waits for it.

On SQLite ``FOR UPDATE`` is not rendered; there every write transaction begins
with ``BEGIN IMMEDIATE`` (see node.db), which serialises claims just the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from node.models import OutboxActivity, Peer, PeerKey
from node.peers.registry import usable

OPEN_STATES = ("pending", "sending")


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(OutboxActivity.state == "pending", OutboxActivity.next_try_at <= now),
        and_(OutboxActivity.state == "sending", OutboxActivity.lease_until <= now),
    )


def _rank(table: type[OutboxActivity]) -> ColumnElement[int]:
    """0 for a key announcement, 1 for everything else: the first sort key of a peer's queue."""
    return case((table.sign_with.is_(None), 1), else_=0)


def _in_order() -> tuple[ColumnElement[int], ColumnElement[int]]:
    return _rank(OutboxActivity), OutboxActivity.id  # type: ignore[return-value]


def _no_older_open_row(now: datetime) -> ColumnElement[bool]:
    """No open row of the same peer comes before this one, and none is in flight."""
    older = aliased(OutboxActivity)
    mine, theirs = _rank(OutboxActivity), _rank(older)
    return ~exists().where(
        older.peer_id == OutboxActivity.peer_id,
        older.id != OutboxActivity.id,
        older.state.in_(OPEN_STATES),
        or_(
            theirs < mine,
            and_(theirs == mine, older.id < OutboxActivity.id),
            and_(older.state == "sending", older.lease_until > now),
        ),
    )


def _peer_ready(now: datetime) -> ColumnElement[bool]:
    """The peer can receive: its inbox is known, a key of it is pinned, it is due."""
    return and_(
        Peer.inbox_url.is_not(None),
        or_(Peer.next_attempt_at.is_(None), Peer.next_attempt_at <= now),
        exists().where(PeerKey.peer_id == Peer.id, usable(now)),
    )


def _take(rows: Sequence[OutboxActivity], *, now: datetime, lease: timedelta, worker: str) -> None:
    for row in rows:
        row.state = "sending"
        row.lease_until = now + lease
        row.claimed_by = worker


async def _followers(
    session: AsyncSession, head: OutboxActivity, now: datetime, limit: int
) -> list[OutboxActivity]:
    """The open rows right behind ``head``, up to the first that may not go now.

    Nobody else can claim them while the head is open, so they need no SKIP LOCKED.
    """
    if limit <= 0:
        return []
    behind = (
        await session.scalars(
            select(OutboxActivity)
            .where(
                OutboxActivity.peer_id == head.peer_id,
                OutboxActivity.id != head.id,
                OutboxActivity.state.in_(OPEN_STATES),
            )
            .order_by(*_in_order())
            .limit(limit)
            .with_for_update()
        )
    ).all()
    taken = []
    for row in behind:
        due = row.state == "pending" and row.next_try_at <= now
        expired = row.state == "sending" and row.lease_until is not None and row.lease_until <= now
        if not (due or expired):
            break
        taken.append(row)
    return taken


async def claim_batches(
    session: AsyncSession,
    *,
    now: datetime,
    lease: timedelta,
    worker: str,
    peers: int,
    batch: int,
) -> list[list[OutboxActivity]]:
    """For up to ``peers`` ready peers, their due head row and up to ``batch - 1`` rows
    behind it, in order; commit promptly after."""
    heads = (
        await session.scalars(
            select(OutboxActivity)
            .join(Peer, Peer.id == OutboxActivity.peer_id)
            .where(_claimable(now), _no_older_open_row(now), _peer_ready(now))
            .order_by(OutboxActivity.id)
            .limit(peers)
            .with_for_update(of=OutboxActivity, skip_locked=True)
        )
    ).all()
    batches = []
    for head in heads:
        rows = [head, *await _followers(session, head, now, batch - 1)]
        _take(rows, now=now, lease=lease, worker=worker)
        batches.append(rows)
    return batches


async def claim_batch(
    session: AsyncSession,
    peer_id: int,
    *,
    now: datetime,
    lease: timedelta,
    worker: str,
    batch: int,
) -> list[OutboxActivity]:
    """The next batch of one peer, in the transaction that settled the previous one."""
    head = await session.scalar(
        select(OutboxActivity)
        .where(OutboxActivity.peer_id == peer_id, _claimable(now), _no_older_open_row(now))
        .order_by(*_in_order())
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if head is None:
        return []
    rows = [head, *await _followers(session, head, now, batch - 1)]
    _take(rows, now=now, lease=lease, worker=worker)
    return rows


async def ours(
    session: AsyncSession, row_ids: Sequence[int], worker: str
) -> Sequence[OutboxActivity]:
    """The rows, locked, whose claim by this worker still stands (none taken over)."""
    if not row_ids:
        return []
    return (
        await session.scalars(
            select(OutboxActivity)
            .where(
                OutboxActivity.id.in_(list(row_ids)),
                OutboxActivity.state == "sending",
                OutboxActivity.claimed_by == worker,
            )
            .order_by(OutboxActivity.id)
            .with_for_update()
        )
    ).all()


async def renew(
    session: AsyncSession, row_ids: Sequence[int], worker: str, until: datetime
) -> None:
    """Extend this worker's lease on rows it still has to send."""
    if row_ids:
        await session.execute(
            update(OutboxActivity)
            .where(
                OutboxActivity.id.in_(list(row_ids)),
                OutboxActivity.state == "sending",
                OutboxActivity.claimed_by == worker,
            )
            .values(lease_until=until)
            .execution_options(synchronize_session=False)
        )
