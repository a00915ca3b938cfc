"""Slowing down password guessing, per e-mail address.

After a few failed logins an address is locked for a minute, then for twice as
long after each further failure, up to half an hour. While it is locked even the
right password is refused, otherwise the lock would tell a guesser when they hit.

Counting is per address typed, registered or not: an unknown address is locked
exactly like a known one, so the lock itself reveals nothing. Failures older than
a day are forgotten.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from node.models import LoginThrottle, utcnow

FREE_FAILURES = 5
FIRST_LOCK = timedelta(minutes=1)
LONGEST_LOCK = timedelta(minutes=30)
MEMORY = timedelta(days=1)


async def locked_until(
    session: AsyncSession, email: str, *, now: datetime | None = None
) -> datetime | None:
    """When the lock on ``email`` ends, or None if it may try now."""
    now = now or utcnow()
    row = await session.get(LoginThrottle, email)
    if row is None or row.locked_until is None or row.locked_until <= now:
        return None
    return row.locked_until


async def record_failure(
    session: AsyncSession, email: str, *, now: datetime | None = None
) -> datetime | None:
    """Count a failed login; returns the new lock end if this failure set one."""
    now = now or utcnow()
    row = await _row_for_update(session, email)
    if row.last_failure_at is not None and now - row.last_failure_at > MEMORY:
        row.failures = 0
    row.failures += 1
    row.last_failure_at = now
    if row.failures >= FREE_FAILURES:
        lock = FIRST_LOCK * 2 ** min(row.failures - FREE_FAILURES, 16)
        row.locked_until = now + min(lock, LONGEST_LOCK)
    await session.flush()
    return row.locked_until if row.failures >= FREE_FAILURES else None


async def clear(session: AsyncSession, email: str) -> None:
    """Forget the failures of an address (after a successful login or a reset)."""
    await session.execute(delete(LoginThrottle).where(LoginThrottle.email == email))


async def _row_for_update(session: AsyncSession, email: str) -> LoginThrottle:
    # Two concurrent failures for a new address must not collide on the primary key.
    dialect = session.get_bind().dialect.name
    insert = postgres_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(
        insert(LoginThrottle).values(email=email, failures=0).on_conflict_do_nothing()
    )
    row = await session.scalar(
        select(LoginThrottle)
        .where(LoginThrottle.email == email)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row
