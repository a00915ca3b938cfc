"""What a resident is told about their contacts: notices on the portal, and when the
last mail of each kind went out.

A ``Notice`` exists per contact and kind (``request``, ``acceptance``, ``message``)
from the first time that happened. It is *unseen* (``seen_at`` empty) until the
resident opened the page that shows it; ``count`` says how many events it stands
for while unseen (messages add up, a new message after it was seen starts again
at one). ``unmailed`` counts the events no mail has told of yet: the notification
worker mails at most once per kind and hour per resident, so what arrives in
between waits there for the next, summarising mail. ``reminded_at`` marks the one
reminder about a request left unanswered. Notices name nobody: the page reads the
name from the contact when it shows them, so a departed contact's name is gone
from them too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from node.models.base import Base, utcnow

NOTICE_REQUEST = "request"
NOTICE_ACCEPTANCE = "acceptance"
NOTICE_MESSAGE = "message"
NOTICE_KINDS = (NOTICE_REQUEST, NOTICE_ACCEPTANCE, NOTICE_MESSAGE)


class Notice(Base):
    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("contact_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    count: Mapped[int] = mapped_column(default=1)
    unmailed: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]


class NoticeMail(Base):
    """When the last notification mail of a kind went to the resident (the hourly
    limit is counted from here)."""

    __tablename__ = "notice_mails"

    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    last_sent_at: Mapped[datetime]


Index("ix_notices_unmailed", Notice.unmailed, Notice.resident_id)
Index("ix_notices_reminder", Notice.kind, Notice.reminded_at, Notice.created_at)
