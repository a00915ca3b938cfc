"""Two-factor sign-in with time-based one-time codes (TOTP, RFC 6238) and recovery codes.

A resident sets it up by scanning a secret into an authenticator app; it counts as
enabled only once a code from the app has been accepted, so a half-finished set-up
never locks anyone out. Enabling hands out ten recovery codes, shown once and stored
as hashes, each good for one sign-in when the phone is lost.

A code is accepted from the step before to the step after the current one (clocks
drift), and only for a step later than the last accepted one: a code seen over a
shoulder cannot be used again. Wrong codes slow down further tries for the account
with the growing delay of the login throttle (nothing is ever locked); the counter
lives on the resident's row, because a correct password clears the address counter
and must not also clear the count of wrong codes.

The secret is sealed at rest (``totp_seal``); the seal is passed in by the caller.
A secret that does not open (the node secret changed) is treated like a missing one:
a set-up in progress starts over, an enabled one accepts recovery codes only.

Everything here works inside the caller's unit of work.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import pyotp
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from node.accounts import _login_throttle as login_throttle
from node.accounts import accounts, sessions
from node.accounts.totp_seal import SecretSeal, UnreadableSecret
from node.models import LoginSession, RecoveryCode, Resident, TwoFactor
from node.runtime.config import LimitsSection

RECOVERY_CODE_COUNT = 10
# Crockford's base32: no I, L, O or U to misread; 12 characters carry 60 bits.
_RECOVERY_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_RECOVERY_LENGTH = 12
_READ_AS = str.maketrans({"o": "0", "i": "1", "l": "1"})
TOTP_DIGITS = 6

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """``ok``, ``wrong`` or ``wait`` (too early after wrong codes: not checked).
    ``unreadable`` marks a wrong code for an account whose secret no longer opens, so
    that the resident is told to use a recovery code instead of trying again."""

    status: Literal["ok", "wrong", "wait"]
    wait_until: datetime | None = None
    recovery_used: bool = False
    unreadable: bool = False


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """What the QR code carries: ``otpauth://totp/...``."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


async def state_of(session: AsyncSession, resident_id: int) -> TwoFactor | None:
    return await session.get(TwoFactor, resident_id)


async def is_enabled(session: AsyncSession, resident_id: int) -> bool:
    row = await state_of(session, resident_id)
    return row is not None and row.enabled_at is not None


async def recovery_codes_left(session: AsyncSession, resident_id: int) -> int:
    rows = await session.scalars(
        select(RecoveryCode.id).where(RecoveryCode.resident_id == resident_id)
    )
    return len(rows.all())


async def pending_secret(session: AsyncSession, seal: SecretSeal, resident_id: int) -> str | None:
    """The secret of a set-up in progress, started here if there is none (or if the
    pending one no longer opens); None when two-factor sign-in is already enabled.
    The same secret is shown until a code confirms it, so reloading the page does not
    invalidate what the app scanned."""
    row = await _locked(session, resident_id)
    if row is not None and row.enabled_at is not None:
        return None
    secret = None if row is None else _opened(seal, row)
    if secret is None:
        secret = new_secret()
        if row is None:
            row = TwoFactor(resident_id=resident_id, failures=0)
            session.add(row)
        row.secret = seal.seal(secret, resident_id)
        await session.flush()
    return secret


async def enable(
    session: AsyncSession, seal: SecretSeal, resident_id: int, code: str, now: datetime
) -> list[str] | None:
    """Enable with a code from the app; the new recovery codes, or None for a wrong
    code (or no set-up in progress)."""
    row = await _locked(session, resident_id)
    if row is None or row.enabled_at is not None:
        return None
    step = _matching_step(row, _opened(seal, row), code, now)
    if step is None:
        return None
    row.enabled_at = now
    row.last_step = step
    return await replace_recovery_codes(session, resident_id)


async def check_code(
    session: AsyncSession,
    seal: SecretSeal,
    resident_id: int,
    code: str,
    limits: LimitsSection,
    now: datetime,
    *,
    client: str | None = None,
    recovery: bool = True,
) -> CodeCheck:
    """Check a code from the app (or, with ``recovery``, a recovery code, which is
    used up) for an enabled two-factor sign-in. Wrong codes count on the account and,
    given a ``client``, on the login throttle's counter of that client."""
    client_counter = None
    if client is not None:
        client_counter = (
            login_throttle.client_key(client),
            login_throttle.client_policy(limits),
        )
        until = await login_throttle.claim_attempts(session, [client_counter], now)
        if until is not None:
            return CodeCheck("wait", wait_until=until)
    row = await _locked(session, resident_id)
    if row is None or row.enabled_at is None:
        return CodeCheck("wrong")
    if row.wait_until is not None and row.wait_until > now:
        return CodeCheck("wait", wait_until=row.wait_until)
    secret = _opened(seal, row)
    step = _matching_step(row, secret, code, now)
    used_recovery = False
    if step is None and recovery:
        used_recovery = await _use_recovery_code(session, resident_id, code)
    if step is None and not used_recovery:
        if row.last_failure_at is not None and now - row.last_failure_at > login_throttle.MEMORY:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        wait = login_throttle.address_policy(limits).delay(row.failures)
        row.wait_until = now + wait if wait else None
        await session.flush()
        return CodeCheck("wrong", unreadable=secret is None)
    if step is not None:
        row.last_step = step
    row.failures = 0
    row.wait_until = None
    if client_counter is not None:
        await login_throttle.settle_client(session, *client_counter)
    await session.flush()
    return CodeCheck("ok", recovery_used=used_recovery)


async def replace_recovery_codes(session: AsyncSession, resident_id: int) -> list[str]:
    """Ten fresh recovery codes (shown once); the old ones stop working."""
    await session.execute(delete(RecoveryCode).where(RecoveryCode.resident_id == resident_id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(
        RecoveryCode(resident_id=resident_id, code_hash=_hash(_normalise(code))) for code in codes
    )
    await session.flush()
    return codes


async def disable(session: AsyncSession, resident_id: int) -> None:
    """Remove the secret and the recovery codes; no session counts as having passed
    a second factor any more."""
    await session.execute(delete(RecoveryCode).where(RecoveryCode.resident_id == resident_id))
    await session.execute(delete(TwoFactor).where(TwoFactor.resident_id == resident_id))
    await session.execute(
        update(LoginSession)
        .where(LoginSession.resident_id == resident_id)
        .values(second_factor_at=None)
        .execution_options(synchronize_session=False)
    )


async def reset(session: AsyncSession, email: str) -> Resident | None:
    """For city IT, when a resident lost the device and the recovery codes: two-factor
    sign-in is switched off and every session of the account ends, so the next
    sign-in is with the password alone (admins are then asked to set it up again)."""
    resident = await accounts.find_by_email(session, email)
    if resident is None:
        return None
    await disable(session, resident.id)
    await sessions.destroy_sessions_of(session, resident.id)
    return resident


def _opened(seal: SecretSeal, row: TwoFactor) -> str | None:
    """The row's secret, or None when it does not open under this node's seal."""
    try:
        return seal.open(row.secret, row.resident_id)
    except UnreadableSecret as exc:
        log.warning("two-factor secret unreadable", extra={"error": str(exc)})
        return None


def _matching_step(row: TwoFactor, secret: str | None, code: str, now: datetime) -> int | None:
    """The time step ``code`` belongs to, if it is one of the three around ``now`` and
    later than the last accepted one."""
    typed = "".join(code.split())
    if secret is None or len(typed) != TOTP_DIGITS or not typed.isascii() or not typed.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if row.last_step is not None and step <= row.last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), typed):
            return step
    return None


async def _use_recovery_code(session: AsyncSession, resident_id: int, code: str) -> bool:
    typed = _normalise(code)
    if len(typed) != _RECOVERY_LENGTH or any(c not in _RECOVERY_ALPHABET for c in typed):
        return False
    result = await session.execute(
        delete(RecoveryCode).where(
            RecoveryCode.resident_id == resident_id, RecoveryCode.code_hash == _hash(typed)
        )
    )
    return bool(getattr(result, "rowcount", 0))


async def _locked(session: AsyncSession, resident_id: int) -> TwoFactor | None:
    return await session.scalar(
        select(TwoFactor)
        .where(TwoFactor.resident_id == resident_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _normalise(code: str) -> str:
    return "".join(c for c in code.casefold() if c not in " -\t").translate(_READ_AS)[:64]


def _hash(normalised: str) -> str:
    return hashlib.sha256(normalised.encode("ascii", "replace")).hexdigest()
