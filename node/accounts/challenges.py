"""The step between a correct password and the second factor.

A resident with two-factor sign-in who typed the right password is not logged in
yet: they get a challenge, valid for a few minutes, that only a code from their app
or a recovery code completes. Like a session, the challenge is a random token in a
cookie of its own and only its hash in the table; unlike a session it grants
nothing but the right to try a code. Expired challenges are swept whenever a new
one is opened.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from node.models import LoginChallenge

LIFETIME = timedelta(minutes=5)
MAX_TOKEN = 128


@dataclass(frozen=True, slots=True)
class OpenedChallenge:
    token: str
    expires_at: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def open_challenge(
    session: AsyncSession, resident_id: int, next_path: str, now: datetime
) -> OpenedChallenge:
    await session.execute(delete(LoginChallenge).where(LoginChallenge.expires_at <= now))
    token = secrets.token_urlsafe(32)
    expires_at = now + LIFETIME
    session.add(
        LoginChallenge(
            id=_hash(token),
            resident_id=resident_id,
            next_path=next_path[:500],
            created_at=now,
            expires_at=expires_at,
        )
    )
    await session.flush()
    return OpenedChallenge(token, expires_at)


async def find_challenge(session: AsyncSession, token: str, now: datetime) -> LoginChallenge | None:
    """The live challenge for a cookie token; None when unknown or expired."""
    if not token or len(token) > MAX_TOKEN:
        return None
    row = await session.get(LoginChallenge, _hash(token))
    if row is None or row.expires_at <= now:
        return None
    return row


async def close_challenge(session: AsyncSession, challenge: LoginChallenge) -> None:
    await session.execute(delete(LoginChallenge).where(LoginChallenge.id == challenge.id))
