"""Contacts between a resident of this node and a peer resident, their messages, and
reports about them.

A contact row exists per pair of pseudonym actors (this node's resident towards one
peer, and the peer resident) from the first request, answer or block on either side.
Each side's consent is kept separately, because the two nodes learn about it at
different times and in any order:

* ``my_consent`` is this node's resident, ``their_consent`` the peer resident; each is
  ``none``, ``yes``, ``declined`` (a ``Reject`` of a request) or ``withdrawn``
  (an ``Undo`` of a request, or a ``Reject`` after having said yes);
* a no (declined, withdrawn) is final, and a yes counts only while that side has not
  said no, so the outcome does not depend on the order of arrival: an ``Undo`` that
  overtook its ``Follow`` stays in force when the ``Follow`` arrives late;
  ``their_consent_at`` is the time the peer wrote on the activity that set their side;
* a block (``blocked_by_me`` / ``blocked_by_them``) ends the pair until the blocker
  lifts it (the pair then starts afresh; ``their_consent_at`` also keeps the time of
  the peer's ``Block``); the other's departure (``remote_deleted_at``) or this side's
  pseudonym actor being deleted (``left_at``: the resident was suspended; the peer
  dropped the pair) end it for good. A pause
  or a pseudonym reset withdraws only the vector: contacts go on.

Consent is mutual while both sides say ``yes`` and none of the endings applies; only
then do names (``their_name``, ``their_about``) and messages cross.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from node.models.base import Base, utcnow

CONSENT_NONE = "none"
CONSENT_YES = "yes"
CONSENT_DECLINED = "declined"
CONSENT_WITHDRAWN = "withdrawn"


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("local_actor", "remote_actor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    peer_id: Mapped[int] = mapped_column(ForeignKey("peers.id", ondelete="CASCADE"), index=True)
    local_actor: Mapped[str] = mapped_column(String(500), index=True)
    remote_actor: Mapped[str] = mapped_column(String(500), index=True)
    my_consent: Mapped[str] = mapped_column(String(12), default=CONSENT_NONE)
    their_consent: Mapped[str] = mapped_column(String(12), default=CONSENT_NONE)
    my_consent_at: Mapped[datetime | None]
    their_consent_at: Mapped[datetime | None]
    my_follow_id: Mapped[str | None] = mapped_column(String(500))
    their_follow_id: Mapped[str | None] = mapped_column(String(500))
    blocked_by_me: Mapped[bool] = mapped_column(default=False)
    blocked_by_them: Mapped[bool] = mapped_column(default=False)
    mutual_since: Mapped[datetime | None]
    their_name: Mapped[str | None] = mapped_column(String(80))
    their_about: Mapped[str | None] = mapped_column(Text)
    revealed_at: Mapped[datetime | None]
    remote_deleted_at: Mapped[datetime | None]
    left_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Message(Base):
    """One plain-text message of a contact, in (``in``) or out (``out``).

    ``activity_id`` (the ``Create``) and ``note_id`` are unique, so a message delivered
    twice is stored once. ``notify`` is ``pending`` until the recipient's mail went out
    (then ``sent``), or ``none`` when no mail is wanted.
    """

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(3))
    activity_id: Mapped[str] = mapped_column(String(500), unique=True)
    note_id: Mapped[str] = mapped_column(String(500), unique=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    notify: Mapped[str] = mapped_column(String(8), default="none")


class Report(Base):
    """A report for this node's admins.

    ``filed``: a resident of this node reported a peer resident (a contact or a
    request); ``received``: a peer forwarded a report (``Flag``) about a resident of
    this node, whom the admins here can suspend. ``messages`` is a copy of the
    reported messages, kept as evidence even if the author leaves.
    """

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    origin: Mapped[str] = mapped_column(String(12))
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), index=True
    )
    subject_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    peer_id: Mapped[int | None] = mapped_column(ForeignKey("peers.id", ondelete="SET NULL"))
    reported_actor: Mapped[str] = mapped_column(String(500))
    activity_id: Mapped[str | None] = mapped_column(String(500), unique=True)
    reason: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    messages: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(12), default="open")
    handled_by: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    handled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


Index("ix_messages_contact_created", Message.contact_id, Message.created_at)
Index("ix_messages_notify", Message.notify, Message.id)
Index("ix_reports_state_created", Report.state, Report.created_at)
