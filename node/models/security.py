"""What guards a resident's sign-in beyond the password: the TOTP secret of the
two-factor sign-in, the single-use recovery codes, and the short-lived challenge
between a correct password and the code. Every row belongs to one resident and goes
with the account (``ON DELETE CASCADE``); none of it ever leaves the node."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from node.models.base import Base, utcnow


class TwoFactor(Base):
    """A resident's TOTP secret (RFC 6238), sealed under a key derived from the node
    secret so that a copy of the database alone cannot make codes. Without
    ``enabled_at`` it is a set-up in progress: the secret was shown, but no code has
    proved the app holds it yet.

    ``last_step`` is the time step of the last accepted code, so that a code seen
    over someone's shoulder cannot be used a second time. ``failures`` and
    ``wait_until`` slow down guessing of codes for this account; they are kept here
    and not with the password counters, which a correct password clears."""

    __tablename__ = "two_factor"

    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True
    )
    # Sealed (node/accounts/totp_seal.py): "v1:" and base64 of nonce and ciphertext.
    secret: Mapped[str] = mapped_column(String(128))
    enabled_at: Mapped[datetime | None]
    last_step: Mapped[int | None]
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime | None]
    wait_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecoveryCode(Base):
    """One single-use recovery code, stored as its SHA-256 only (the codes carry 60
    random bits, so a fast hash is enough); deleted when used."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginChallenge(Base):
    """A correct password waiting for its second factor. Its own short-lived cookie
    holds a random token; the row only its hash, like a session's."""

    __tablename__ = "login_challenges"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    next_path: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


Index("ix_recovery_codes_resident_id", RecoveryCode.resident_id)
Index("ix_login_challenges_resident_id", LoginChallenge.resident_id)
Index("ix_login_challenges_expires_at", LoginChallenge.expires_at)
