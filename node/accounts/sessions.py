"""Browser sessions of logged-in residents.

A session row exists only from login to logout: a visitor without an account keeps
its form token in a signed cookie of the web interface and costs no row. The cookie
carries a random token of 256 bits; the table keeps only its SHA-256, so a leaked
copy of the database does not let anyone take over a session. Each session holds
its own CSRF token.

A session dies after ``idle_timeout_minutes`` without use or after
``absolute_timeout_hours`` in any case; it is replaced by a fresh one at login (so
an id planted before login is worthless afterwards) and removed at logout, at a
password reset and when the account is deleted.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.models import LoginSession, Resident, utcnow
from node.runtime.config import SessionSection

# Writing last_seen_at on every request would turn every page view into a write;
# once a minute is precise enough for timeouts counted in minutes.
TOUCH_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class OpenedSession:
    """A session just created: the row, and the token that only the cookie will hold."""

    token: str
    row: LoginSession


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def open_session(
    session: AsyncSession,
    *,
    resident_id: int,
    language: str | None = None,
    now: datetime | None = None,
) -> OpenedSession:
    """Create a session for a resident who has just proved who they are."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = LoginSession(
        id=hash_token(token),
        resident_id=resident_id,
        csrf_token=secrets.token_urlsafe(32),
        language=language,
        created_at=now,
        last_seen_at=now,
    )
    session.add(row)
    await session.flush()
    return OpenedSession(token, row)


async def find_session(
    session: AsyncSession,
    token: str,
    settings: SessionSection,
    *,
    now: datetime | None = None,
) -> LoginSession | None:
    """The live session for a cookie token, touched; None when unknown or timed out.

    A timed-out session is deleted on the spot so it can never come back.
    """
    if not token or len(token) > 128:
        return None
    now = now or utcnow()
    row = await session.get(LoginSession, hash_token(token))
    if row is None:
        return None
    if is_expired(row, settings, now):
        await session.delete(row)
        await session.flush()
        return None
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
    return row


_VISIT = (
    select(LoginSession, Resident)
    .join(Resident, Resident.id == LoginSession.resident_id)
    .where(LoginSession.id == bindparam("session"))
)
"""Built once: every page view of someone logged in asks it."""


async def peek_visit(session: AsyncSession, token: str) -> tuple[LoginSession, Resident] | None:
    """The session row for a cookie token, as stored (read-only; may have timed out),
    and its resident: one statement, since every page view of someone logged in needs
    both (a row of an older release without a resident counts as no session)."""
    if not token or len(token) > 128:
        return None
    found = (await session.execute(_VISIT, {"session": hash_token(token)})).first()
    return None if found is None else (found[0], found[1])


def needs_write(row: LoginSession, settings: SessionSection, now: datetime) -> bool:
    """Whether :func:`find_session` would change the row (delete it, or touch it):
    most page views read the session without taking the write lock."""
    return is_expired(row, settings, now) or now - row.last_seen_at >= TOUCH_INTERVAL


def is_expired(row: LoginSession, settings: SessionSection, now: datetime) -> bool:
    idle = timedelta(minutes=settings.idle_timeout_minutes)
    absolute = timedelta(hours=settings.absolute_timeout_hours)
    return now - row.last_seen_at >= idle or now - row.created_at >= absolute


async def rotate_session(
    session: AsyncSession,
    current: LoginSession | None,
    resident_id: int,
    *,
    language: str | None = None,
) -> OpenedSession:
    """Replace the current session, if any, by a new one for ``resident_id`` (at login).

    The language chosen before survives; id and CSRF token do not.
    """
    carried = language or (current.language if current else None)
    if current is not None:
        await session.execute(delete(LoginSession).where(LoginSession.id == current.id))
    return await open_session(session, resident_id=resident_id, language=carried)


async def destroy_session(session: AsyncSession, row: LoginSession) -> None:
    await session.execute(delete(LoginSession).where(LoginSession.id == row.id))


async def destroy_sessions_of(session: AsyncSession, resident_id: int) -> None:
    """End every session of a resident (password reset, account deletion)."""
    await session.execute(delete(LoginSession).where(LoginSession.resident_id == resident_id))


async def destroy_other_sessions(session: AsyncSession, resident_id: int, keep_id: str) -> int:
    """End every session of a resident but ``keep_id`` (a password change, "sign out
    everywhere else"); how many ended."""
    result = await session.execute(
        delete(LoginSession).where(
            LoginSession.resident_id == resident_id, LoginSession.id != keep_id
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def set_session_language(session: AsyncSession, row: LoginSession, language: str) -> None:
    fresh = await session.get(LoginSession, row.id)
    if fresh is not None:
        fresh.language = language
    row.language = language


async def purge_expired_sessions(
    session: AsyncSession, settings: SessionSection, *, now: datetime | None = None
) -> int:
    """Delete sessions past their timeouts (residents who never logged out)."""
    now = now or utcnow()
    idle_cutoff = now - timedelta(minutes=settings.idle_timeout_minutes)
    absolute_cutoff = now - timedelta(hours=settings.absolute_timeout_hours)
    result = await session.execute(
        delete(LoginSession).where(
            or_(
                LoginSession.last_seen_at < idle_cutoff,
                LoginSession.created_at < absolute_cutoff,
            )
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def sessions_of(session: AsyncSession, resident_id: int) -> list[LoginSession]:
    result = await session.scalars(
        select(LoginSession)
        .where(LoginSession.resident_id == resident_id)
        .order_by(LoginSession.created_at)
    )
    return list(result)
