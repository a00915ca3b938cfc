"""Single-use, expiring links sent by mail (e-mail verification, password reset).

Like session ids, only a hash of the token is stored: whoever reads the database
cannot use a pending link. A token is consumed by the first use, and issuing a new
one for the same purpose voids the older ones, so at most one link of a kind works.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from node.models import AccountToken, Resident, utcnow

VERIFY_EMAIL = "verify_email"
PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose name, not a secret

LIFETIMES = {
    VERIFY_EMAIL: timedelta(hours=48),
    PASSWORD_RESET: timedelta(minutes=60),
}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def issue_token(
    session: AsyncSession, resident: Resident, purpose: str, *, now: datetime | None = None
) -> str:
    """A fresh link token for ``purpose``; earlier unused ones of that purpose die."""
    now = now or utcnow()
    await session.execute(
        update(AccountToken)
        .where(
            AccountToken.resident_id == resident.id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        AccountToken(
            resident_id=resident.id,
            purpose=purpose,
            token_hash=_hash(token),
            expires_at=now + LIFETIMES[purpose],
            created_at=now,
        )
    )
    await session.flush()
    return token


async def peek_token(
    session: AsyncSession, token: str, purpose: str, *, now: datetime | None = None
) -> Resident | None:
    """The resident a still-valid token belongs to, without using it up (to show the
    "choose a new password" form only for links that will work)."""
    row = await _valid(session, token, purpose, now or utcnow())
    return None if row is None else await session.get(Resident, row.resident_id)


async def consume_token(
    session: AsyncSession, token: str, purpose: str, *, now: datetime | None = None
) -> Resident | None:
    """Use a token up and return its resident; None if unknown, used or expired."""
    now = now or utcnow()
    row = await _valid(session, token, purpose, now)
    if row is None:
        return None
    row.used_at = now
    await session.flush()
    return await session.get(Resident, row.resident_id)


async def _valid(
    session: AsyncSession, token: str, purpose: str, now: datetime
) -> AccountToken | None:
    if not token or len(token) > 128:
        return None
    row = await session.scalar(
        select(AccountToken).where(
            AccountToken.token_hash == _hash(token), AccountToken.purpose == purpose
        )
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    return row


async def purge_tokens_of(session: AsyncSession, resident_id: int) -> None:
    await session.execute(delete(AccountToken).where(AccountToken.resident_id == resident_id))
