"""The durable mail queue: every mail to a person is written here in the transaction
of the change that causes it, and the mail worker sends it afterwards.

Row states: ``pending`` (due at ``next_try_at``), ``sending`` (claimed by a worker
until ``lease_until``; a crashed worker's rows become claimable again when the
lease runs out), ``sent``, ``failed`` (given up after the tries or hours the ``[mail]`` section
allows). A sent row loses its subject and body at once; a resident's rows go
with the resident (``ON DELETE CASCADE``); the retention purge deletes sent and
failed rows after ``retention.mail_file_days``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from node.models.base import Base, utcnow


class QueuedMail(Base):
    __tablename__ = "mail_queue"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    # Actor URLs of the peer residents the mail names: they tag the stored file.
    mentions: Mapped[list[str]]
    state: Mapped[str] = mapped_column(String(16), default="pending")
    tries: Mapped[int] = mapped_column(default=0)
    next_try_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


Index("ix_mail_queue_due", QueuedMail.state, QueuedMail.next_try_at)
Index("ix_mail_queue_recipient_id", QueuedMail.recipient_id)
