"""Resident accounts: registration, e-mail verification, login, password reset,
preferences and deletion (the export is in :mod:`node.accounts.export`).

Every function works inside the caller's transaction. A mail is queued in the
transaction of the change that causes it (``node.mail.queue``) and sent by the mail
worker after the commit: a mail never announces something that was rolled back, and
no page waits for the mail server. The queued mails are returned for the caller's
information only.

Nothing here may reveal whether an address is registered: registration, login and
reset answer the same way for known and unknown addresses and spend comparable time
(an unknown address still costs one Argon2 computation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from node.accounts import _login_throttle as login_throttle
from node.accounts import limits, passwords, sessions, tokens
from node.mail import queue as mail_queue
from node.models import LoginThrottle, Profile, Resident, utcnow
from node.retention import erasure
from node.runtime.config import Config
from node.runtime.db import Database, UnitOfWork
from node.runtime.mail import (
    ALREADY_REGISTERED,
    PASSWORD_CHANGED,
    PASSWORD_RESET,
    VERIFY_EMAIL,
    Mail,
    Mailer,
)
from node.vectors.activities import Publisher
from node.vectors.publication import publish_changes

# Where the links in mails point; the web interface serves these paths.
LOGIN_PATH = "/login"
VERIFY_PATH = "/verify"
RESET_REQUEST_PATH = "/password/forgotten"
RESET_PATH = "/password/reset"

KINDS: tuple[str, ...] = ("person", "family", "club", "school_class")


def normalise_email(raw: str) -> str:
    """The form an address is stored and compared in (mail providers ignore case)."""
    return raw.strip().lower()


def password_context(config: Config, email: str, display_name: str = "") -> list[str]:
    """Words a guesser would try first for this account (see passwords.py)."""
    return [
        email,
        display_name,
        config.branding.portal_name,
        config.node.city,
        config.node.slug,
    ]


@dataclass(frozen=True, slots=True)
class Registration:
    email: str
    password: str
    display_name: str
    kind: str
    language: str
    # An adult (parent, club officer, teacher) declared that they hold the account of a
    # family, club or school class; recorded with its time.
    adult_declared: bool = False


@dataclass(slots=True)
class LoginResult:
    """``ok`` (with the resident), ``failed``, ``wait`` (too early after earlier
    attempts: not checked, come back at ``locked_until``) or ``unverified`` (right
    password, address not confirmed yet: a new link is mailed, a few times an hour)."""

    status: Literal["ok", "failed", "wait", "unverified"]
    resident: Resident | None = None
    locked_until: datetime | None = None
    mails: list[Mail] = field(default_factory=list)


@dataclass(slots=True)
class ResetResult:
    """``ok``, ``invalid_link`` (unknown, used or expired) or ``weak`` (with codes)."""

    status: Literal["ok", "invalid_link", "weak"]
    problems: list[str] = field(default_factory=list)
    resident: Resident | None = None
    mails: list[Mail] = field(default_factory=list)


async def get_resident(session: AsyncSession, resident_id: int) -> Resident | None:
    return await session.get(Resident, resident_id)


async def find_by_email(session: AsyncSession, email: str) -> Resident | None:
    return await session.scalar(select(Resident).where(Resident.email == normalise_email(email)))


async def register(db: Database, mailer: Mailer, data: Registration) -> list[Mail]:
    """Create an unverified account and mail a confirmation link.

    For an address that already has an account nothing is created; its owner gets
    a "you already have an account" mail instead, and the caller shows the same
    "check your mail" page either way. The password is hashed before the write
    begins: Argon2 is slow on purpose, and must not hold the database's write lock.
    """
    email = normalise_email(data.email)
    async with db.read() as uow:
        existing = await find_by_email(uow, email)
    if existing is not None:
        await passwords.burn_verification(data.password)
        mail = _already_registered(mailer, existing)
        async with db.write() as uow:
            if not await limits.take_mail(uow, mailer.config.limits, email, utcnow()):
                return []
            await mail_queue.enqueue(uow, [mail])
        return [mail]
    password_hash = await passwords.hash_password(data.password)
    async with db.write() as uow:
        resident = Resident(
            email=email,
            password_hash=password_hash,
            display_name=data.display_name,
            kind=data.kind,
            language=data.language,
            adult_declared_at=utcnow() if data.adult_declared else None,
        )
        try:
            async with uow.begin_nested():
                uow.add(resident)
                await uow.flush()
        except IntegrityError:
            # Registered a moment ago by a concurrent request: treat as existing.
            existing = await find_by_email(uow, email)
            mails = [_already_registered(mailer, existing)] if existing else []
            await mail_queue.enqueue(uow, mails)
            return mails
        mails = [await _verification_mail(uow, mailer, resident)]
        await mail_queue.enqueue(uow, mails)
        return mails


async def _verification_mail(session: AsyncSession, mailer: Mailer, resident: Resident) -> Mail:
    token = await tokens.issue_token(session, resident, tokens.VERIFY_EMAIL)
    hours = int(tokens.LIFETIMES[tokens.VERIFY_EMAIL].total_seconds() // 3600)
    return mailer.compose(
        VERIFY_EMAIL,
        resident.email,
        resident.language,
        recipient_id=resident.id,
        name=resident.display_name,
        link=_link(mailer.config, VERIFY_PATH, token),
        hours=hours,
    )


def _already_registered(mailer: Mailer, resident: Resident) -> Mail:
    base = mailer.config.node.base_url
    return mailer.compose(
        ALREADY_REGISTERED,
        resident.email,
        resident.language,
        recipient_id=resident.id,
        name=resident.display_name,
        login_link=base + LOGIN_PATH,
        reset_link=base + RESET_REQUEST_PATH,
    )


def _link(config: Config, path: str, token: str) -> str:
    return f"{config.node.base_url}{path}?token={token}"


async def link_is_valid(session: AsyncSession, token: str, purpose: str) -> bool:
    """Whether a mailed link still works (pages show a form only for those)."""
    return await tokens.peek_token(session, token, purpose) is not None


async def verify_email(session: AsyncSession, token: str) -> Resident | None:
    """Confirm an address with the mailed token; None when the link is not valid."""
    resident = await tokens.consume_token(session, token, tokens.VERIFY_EMAIL)
    if resident is None:
        return None
    if resident.email_verified_at is None:
        resident.email_verified_at = utcnow()
    return resident


async def authenticate(
    db: Database,
    mailer: Mailer,
    email: str,
    password: str,
    *,
    client: str = "unknown",
    clock: Callable[[], datetime] = utcnow,
) -> LoginResult:
    """Check a login attempt against the throttle and the stored hash.

    The attempt is counted for the address and the client before the password is
    looked at; one that comes too early is answered without checking it. The hash
    is verified between two units of work, so that a slow Argon2 verification
    never holds the write lock.
    """
    email = normalise_email(email)
    limits_config = mailer.config.limits
    by_client = login_throttle.client_policy(limits_config)
    client_key = login_throttle.client_key(client)
    counters = [(email, login_throttle.address_policy(limits_config)), (client_key, by_client)]
    async with db.write() as uow:
        until = await login_throttle.claim_attempts(uow, counters, clock())
        resident = None if until is not None else await find_by_email(uow, email)
    if until is not None:
        return LoginResult("wait", locked_until=until)
    matched = await password_matches(resident, password)
    rehashed = None
    if matched and resident is not None and passwords.needs_rehash(resident.password_hash):
        rehashed = await passwords.hash_password(password)
    if not matched or resident is None or resident.status != "active":
        return LoginResult("failed")
    async with db.write() as uow:
        resident = await uow.merge(resident)
        await login_throttle.clear(uow, email)
        await login_throttle.settle_client(uow, client_key, by_client)
        if rehashed is not None:
            resident.password_hash = rehashed
        if resident.email_verified_at is None:
            if not await limits.take_mail(uow, limits_config, email, clock()):
                return LoginResult("unverified")
            mails = [await _verification_mail(uow, mailer, resident)]
            await mail_queue.enqueue(uow, mails)
            return LoginResult("unverified", mails=mails)
        return LoginResult("ok", resident=resident)


async def password_matches(resident: Resident | None, password: str) -> bool:
    """Whether ``password`` is the resident's; as slow for nobody as for somebody."""
    if len(password) > passwords.MAX_LENGTH:
        return False
    if resident is None:
        await passwords.burn_verification(password)
        return False
    return await passwords.verify_password(resident.password_hash, password)


async def request_password_reset(session: UnitOfWork, mailer: Mailer, email: str) -> list[Mail]:
    """Queue a reset link if the address has an account; answer the same way if not.

    Only a few reset mails an hour go to one address, counted for unknown addresses
    too, so the limit reveals nothing either."""
    if not await limits.take_mail(session, mailer.config.limits, normalise_email(email), utcnow()):
        return []
    resident = await find_by_email(session, email)
    if resident is None or resident.status != "active":
        return []
    token = await tokens.issue_token(session, resident, tokens.PASSWORD_RESET)
    minutes = int(tokens.LIFETIMES[tokens.PASSWORD_RESET].total_seconds() // 60)
    mails = [
        mailer.compose(
            PASSWORD_RESET,
            resident.email,
            resident.language,
            recipient_id=resident.id,
            name=resident.display_name,
            link=_link(mailer.config, RESET_PATH, token),
            minutes=minutes,
        )
    ]
    await mail_queue.enqueue(session, mails)
    return mails


async def reset_password(
    db: Database, mailer: Mailer, token: str, new_password: str
) -> ResetResult:
    """Set a new password with a mailed link: the link is used up, every session of
    the account ends and the lock on the address is lifted. The mailbox has just
    proved itself, so the address counts as verified. The new hash is computed
    before the write begins."""
    async with db.read() as uow:
        resident = await tokens.peek_token(uow, token, tokens.PASSWORD_RESET)
    if resident is None:
        return ResetResult("invalid_link")
    context = password_context(mailer.config, resident.email, resident.display_name)
    problems = passwords.password_problems(new_password, context)
    if problems:
        return ResetResult("weak", problems=problems, resident=resident)
    password_hash = await passwords.hash_password(new_password)
    async with db.write() as uow:
        resident = await tokens.consume_token(uow, token, tokens.PASSWORD_RESET)
        if resident is None:
            return ResetResult("invalid_link")  # used up meanwhile
        resident.password_hash = password_hash
        if resident.email_verified_at is None:
            resident.email_verified_at = utcnow()
        await sessions.destroy_sessions_of(uow, resident.id)
        await login_throttle.clear(uow, resident.email)
        mail = mailer.compose(
            PASSWORD_CHANGED,
            resident.email,
            resident.language,
            recipient_id=resident.id,
            name=resident.display_name,
            reset_link=mailer.config.node.base_url + RESET_REQUEST_PATH,
        )
        await mail_queue.enqueue(uow, [mail])
    return ResetResult("ok", resident=resident, mails=[mail])


async def set_language(session: AsyncSession, resident: Resident, language: str) -> None:
    resident.language = language


async def delete_account(session: UnitOfWork, resident: Resident, publisher: Publisher) -> None:
    """Delete the account and everything it owns (the caller checked the password
    with :func:`password_matches` first, outside the write).

    Peers are told first (the withdrawal is queued in this unit of work); then the
    rows go. Tables of other features reference residents with ON DELETE CASCADE,
    so deleting the resident row removes their rows too; what no foreign key reaches
    (stored activities, closed reports' copies, mail files) is erased by
    :func:`node.retention.erasure.erase_resident`.
    """
    await publish_changes(session, publisher, leaving=resident.id)
    await erasure.erase_resident(session, resident.id)
    await sessions.destroy_sessions_of(session, resident.id)
    await tokens.purge_tokens_of(session, resident.id)
    await session.execute(delete(Profile).where(Profile.resident_id == resident.id))
    counted = (resident.email, limits.MAIL_PREFIX + resident.email)
    await session.execute(delete(LoginThrottle).where(LoginThrottle.email.in_(counted)))
    await session.execute(delete(Resident).where(Resident.id == resident.id))
    session.expunge(resident)
