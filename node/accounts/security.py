"""What a resident does to keep the account their own: change the password, see the
sessions that are open, and end the ones they do not recognise.

A wrong current password is a password guess like any other (from a session left
open on a shared computer, say), so it counts on the login throttle: a growing
delay, never a lock. A password change ends every other session and gives the
current one a fresh token, and a mail tells the resident, in case it was not them.

Sessions are shown under a handle derived from their id: the id is what a cookie
token hashes to, and a page has no reason to carry it. Ending a session looks only
among the resident's own, so a handle of someone else's session names nothing.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from node.accounts import _login_throttle as login_throttle
from node.accounts import accounts, passwords, sessions
from node.mail import queue as mail_queue
from node.models import LoginSession, Resident, utcnow
from node.runtime.config import LimitsSection, SessionSection
from node.runtime.db import Database, UnitOfWork
from node.runtime.i18n import N_
from node.runtime.mail import Mailer, MailText

HANDLE = re.compile(r"[0-9a-f]{24}")

PASSWORD_CHANGED_HERE = MailText(
    subject=N_("%(portal)s: your password was changed"),
    body=N_(
        "Hello %(name)s,\n\n"
        "the password of your %(portal)s account was just changed in your account "
        "settings. Every other session was logged out.\n\n"
        "If that was not you, choose a new password at once: %(reset_link)s"
    ),
)


@dataclass(slots=True)
class PasswordChange:
    """``ok`` (with the current session's new token), ``wrong`` (current password),
    ``weak`` (with problem codes) or ``wait`` (too early after wrong passwords)."""

    status: Literal["ok", "wrong", "weak", "wait"]
    problems: list[str] = field(default_factory=list)
    wait_until: datetime | None = None
    opened: sessions.OpenedSession | None = None


@dataclass(frozen=True, slots=True)
class SessionView:
    handle: str
    device: str | None
    created_at: datetime
    last_seen_at: datetime
    current: bool


def handle_of(row: LoginSession) -> str:
    return hashlib.sha256(b"session handle " + row.id.encode("ascii")).hexdigest()[:24]


async def change_password(
    db: Database,
    mailer: Mailer,
    resident: Resident,
    current: LoginSession,
    old_password: str,
    new_password: str,
    *,
    client: str,
) -> PasswordChange:
    """Check the current password (counted on the throttle first) and the policy,
    then set the new one, end the other sessions and rotate the current one. The
    slow hashing happens between the units of work."""
    config = mailer.config
    context = accounts.password_context(config, resident.email, resident.display_name)
    problems = passwords.password_problems(new_password, context)
    if problems:
        return PasswordChange("weak", problems=problems)
    checked = await confirm_password(db, config.limits, resident, old_password, client=client)
    if checked.status != "ok":
        return PasswordChange(checked.status, wait_until=checked.wait_until)
    password_hash = await passwords.hash_password(new_password)
    async with db.write() as uow:
        fresh = await uow.get(Resident, resident.id)
        row = await uow.get(LoginSession, current.id)
        if fresh is None or row is None:
            return PasswordChange("wrong")  # account deleted or session ended meanwhile
        fresh.password_hash = password_hash
        await sessions.destroy_other_sessions(uow, fresh.id, row.id)
        opened = await rotate(uow, row)
        mail = mailer.compose(
            PASSWORD_CHANGED_HERE,
            fresh.email,
            fresh.language,
            recipient_id=fresh.id,
            name=fresh.display_name,
            reset_link=config.node.base_url + accounts.RESET_REQUEST_PATH,
        )
        await mail_queue.enqueue(uow, [mail])
    return PasswordChange("ok", opened=opened)


@dataclass(frozen=True, slots=True)
class PasswordCheck:
    status: Literal["ok", "wrong", "wait"]
    wait_until: datetime | None = None


async def confirm_password(
    db: Database, limits: LimitsSection, resident: Resident, password: str, *, client: str
) -> PasswordCheck:
    """A logged-in resident confirms an action with the password: counted on the
    login throttle (address and client) before it is checked, like a login."""
    by_client = login_throttle.client_policy(limits)
    client_key = login_throttle.client_key(client)
    counters = [
        (resident.email, login_throttle.address_policy(limits)),
        (client_key, by_client),
    ]
    async with db.write() as uow:
        until = await login_throttle.claim_attempts(uow, counters, utcnow())
    if until is not None:
        return PasswordCheck("wait", wait_until=until)
    if not await accounts.password_matches(resident, password):
        return PasswordCheck("wrong")
    async with db.write() as uow:
        await login_throttle.clear(uow, resident.email)
        await login_throttle.settle_client(uow, client_key, by_client)
    return PasswordCheck("ok")


async def rotate(uow: UnitOfWork, row: LoginSession) -> sessions.OpenedSession:
    """A fresh token for the same session: device label and second factor carry over."""
    assert row.resident_id is not None
    device, second_factor_at = row.device, row.second_factor_at
    opened = await sessions.rotate_session(uow, row, row.resident_id, language=row.language)
    opened.row.device = device
    opened.row.second_factor_at = second_factor_at
    await uow.flush()
    return opened


async def open_resident_session(
    uow: UnitOfWork,
    current: LoginSession | None,
    resident_id: int,
    *,
    device: str,
    language: str | None = None,
    second_factor_at: datetime | None = None,
) -> sessions.OpenedSession:
    """The session a login ends in (replacing ``current``, if any)."""
    opened = await sessions.rotate_session(uow, current, resident_id, language=language)
    opened.row.device = device
    opened.row.second_factor_at = second_factor_at
    await uow.flush()
    return opened


async def live_sessions(
    uow: UnitOfWork, resident_id: int, current_id: str | None, settings: SessionSection
) -> list[SessionView]:
    """The resident's sessions that have not timed out, the latest used first."""
    now = utcnow()
    rows = [
        row
        for row in await sessions.sessions_of(uow, resident_id)
        if not sessions.is_expired(row, settings, now)
    ]
    rows.sort(key=lambda row: row.last_seen_at, reverse=True)
    return [
        SessionView(
            handle=handle_of(row),
            device=row.device,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            current=row.id == current_id,
        )
        for row in rows
    ]


async def end_session(uow: UnitOfWork, resident_id: int, handle: str, current_id: str) -> bool:
    """End one of the resident's other sessions; False if the handle names none of them."""
    for row in await sessions.sessions_of(uow, resident_id):
        if row.id != current_id and handle_of(row) == handle:
            await sessions.destroy_session(uow, row)
            return True
    return False


async def end_other_sessions(uow: UnitOfWork, resident_id: int, current_id: str) -> int:
    return await sessions.destroy_other_sessions(uow, resident_id, current_id)


async def secure_session(
    uow: UnitOfWork, resident_id: int, session_id: str, now: datetime
) -> sessions.OpenedSession | None:
    """Two-factor sign-in was just enabled in this session: it counts as having passed
    the second factor (the admin pages ask for that) and gets a fresh token; every
    other session, which did not pass it, ends."""
    await sessions.destroy_other_sessions(uow, resident_id, session_id)
    row = await uow.get(LoginSession, session_id)
    if row is None:
        return None
    row.second_factor_at = now
    return await rotate(uow, row)
