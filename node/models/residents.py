"""Residents and what they own on their own node: account, sessions, one-time tokens,
profile. Nothing in these tables ever leaves the node as it is."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from node.models.base import Base, utcnow


class Resident(Base):
    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(16), default="resident")
    status: Mapped[str] = mapped_column(String(16), default="active")
    language: Mapped[str | None] = mapped_column(String(8))
    email_verified_at: Mapped[datetime | None]
    # When an adult declared holding the account (families, clubs, school classes).
    adult_declared_at: Mapped[datetime | None]
    # Which notification mails the resident wants (notices on the portal come anyway).
    notify_requests: Mapped[bool] = mapped_column(default=True)
    notify_acceptances: Mapped[bool] = mapped_column(default=True)
    notify_messages: Mapped[bool] = mapped_column(default=True)
    pseudonym_epoch: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    profile: Mapped[Profile | None] = relationship(
        back_populates="resident", cascade="all, delete-orphan", passive_deletes=True
    )


class LoginSession(Base):
    """A browser session; the cookie holds a random token, the row only its hash."""

    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A coarse label ("Firefox on Linux") taken from the User-Agent at login, so that
    # a resident can tell their sessions apart; neither the header nor an IP is kept.
    device: Mapped[str | None] = mapped_column(String(64))
    # When this session passed the second factor (admin pages require it).
    second_factor_at: Mapped[datetime | None]


class AccountToken(Base):
    """Single-use, expiring links (e-mail verification, password reset)."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(24))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Profile(Base):
    """What a resident says about themselves. Only its coarse codes are ever encoded
    into the shared vector; ``about`` is shown to a contact after mutual consent."""

    __tablename__ = "profiles"

    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True
    )
    interests: Mapped[list[str]] = mapped_column(default=list)
    occupation: Mapped[str | None] = mapped_column(String(4))
    languages: Mapped[dict[str, str]] = mapped_column(default=dict)
    learning: Mapped[list[str]] = mapped_column(default=list)
    age_band: Mapped[str | None] = mapped_column(String(16))
    children_age_bands: Mapped[list[str]] = mapped_column(default=list)
    about: Mapped[str] = mapped_column(Text, default="")
    show_about: Mapped[bool] = mapped_column(default=False)
    paused: Mapped[bool] = mapped_column(default=False)
    completed: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    resident: Mapped[Resident] = relationship(back_populates="profile")


class LoginThrottle(Base):
    """Attempt counters: login attempts per e-mail address (kept even for unknown
    addresses, so that the delay reveals nothing) and per client (``client …``),
    mails per address (``mail …``) and mail-sending requests per client (``asks …``).
    ``locked_until`` is when the next login attempt may come; ``last_failure_at`` the
    last attempt, or the start of a counting window."""

    __tablename__ = "login_throttles"

    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]


Index("ix_account_tokens_purpose_resident", AccountToken.purpose, AccountToken.resident_id)
# Expired sessions are swept by age; anonymous visitors leave many behind.
Index("ix_login_sessions_last_seen_at", LoginSession.last_seen_at)
