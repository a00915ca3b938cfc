"""Slowing down password guessing, per e-mail address and per client.

Nothing is ever locked: after a few attempts the next one is only evaluated once a
delay has passed, and that delay doubles with each further attempt up to a ceiling.
The right password after the delay always logs in, so nobody can keep a resident
out by typing wrong passwords for them.

Every attempt is counted before the password is checked (and the count of the
address forgotten once it succeeds), so a burst of parallel requests cannot slip
past the counter while the slow hash is being verified. Counting is per address
typed, registered or not, so the delay reveals nothing; and per client, so trying
many addresses from one place slows that place down. Counters idle for a day are
forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from node.models import LoginThrottle
from node.runtime.config import LimitsSection

MEMORY = timedelta(days=1)
# Client counters share the table with addresses; an address always holds an "@".
CLIENT_PREFIX = "client "


@dataclass(frozen=True, slots=True)
class Policy:
    free_attempts: int
    first_delay: timedelta
    longest_delay: timedelta

    def delay(self, attempts: int) -> timedelta:
        """How long to wait after ``attempts`` attempts before the next one counts."""
        if attempts < self.free_attempts:
            return timedelta(0)
        grown = self.first_delay * (1 << min(attempts - self.free_attempts, 20))
        return min(grown, self.longest_delay)


def address_policy(limits: LimitsSection) -> Policy:
    return Policy(
        limits.login_free_attempts,
        timedelta(seconds=limits.login_first_delay_seconds),
        timedelta(seconds=limits.login_longest_delay_seconds),
    )


def client_policy(limits: LimitsSection) -> Policy:
    return Policy(
        limits.login_client_free_attempts,
        timedelta(seconds=limits.login_first_delay_seconds),
        timedelta(seconds=limits.login_longest_delay_seconds),
    )


def client_key(client: str) -> str:
    return CLIENT_PREFIX + client


async def settle_client(session: AsyncSession, key: str, policy: Policy) -> None:
    """A client's successful login does not count against it."""
    row = await row_for_update(session, key)
    row.failures = max(row.failures - 1, 0)
    wait = policy.delay(row.failures)
    if row.last_failure_at is not None:
        row.locked_until = row.last_failure_at + wait if wait else None
    await session.flush()


async def clear(session: AsyncSession, email: str) -> None:
    """Forget the attempts on an address (after a successful login or a reset)."""
    await session.execute(delete(LoginThrottle).where(LoginThrottle.email == email))


async def row_for_update(session: AsyncSession, key: str) -> LoginThrottle:
    # Two concurrent attempts for a new key must not collide on the primary key.
    dialect = session.get_bind().dialect.name
    insert = postgres_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(
        insert(LoginThrottle).values(email=key, failures=0).on_conflict_do_nothing()
    )
    row = await session.scalar(
        select(LoginThrottle)
        .where(LoginThrottle.email == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def claim_attempts(
    session: AsyncSession, counters: list[tuple[str, Policy]], now: datetime
) -> datetime | None:
    """Count one attempt on every counter, or on none of them if any says wait.

    Returns the latest time to come back when the attempt came too early. Rows are
    locked in key order so that two attempts never wait on each other's locks.
    """
    rows = [
        (await row_for_update(session, key), policy)
        for key, policy in sorted(counters, key=lambda c: c[0])
    ]
    waits = [row.locked_until for row, _ in rows if row.locked_until and row.locked_until > now]
    if waits:
        return max(waits)
    for row, policy in rows:
        if row.last_failure_at is not None and now - row.last_failure_at > MEMORY:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        wait = policy.delay(row.failures)
        row.locked_until = now + wait if wait else None
    await session.flush()
    return None
