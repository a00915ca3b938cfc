"""Queue mails in the caller's transaction.

A mail is stored with the change that causes it (a registration, a reset request,
a new message), so that it is sent if and only if that change committed; the page
that caused it answers at once, whatever the address and however slow the mail
server is: the mail worker sends it afterwards, with retries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from node.models import QueuedMail, utcnow
from node.runtime.db import UnitOfWork
from node.runtime.mail import Mail


@dataclass(frozen=True, slots=True)
class MailQueued:
    """Mails were queued: the mail worker should look now, not at its next poll."""


async def enqueue(uow: UnitOfWork, mails: Iterable[Mail]) -> int:
    """Store ``mails`` for sending once the caller's transaction commits."""
    now = utcnow()
    count = 0
    for mail in mails:
        uow.add(
            QueuedMail(
                recipient_id=mail.recipient_id,
                address=mail.to,
                subject=mail.subject,
                body=mail.body,
                mentions=list(mail.mentions),
                state="pending",
                tries=0,
                next_try_at=now,
                created_at=now,
            )
        )
        count += 1
    if count:
        await uow.flush()
        uow.record(MailQueued())
    return count


def as_mail(row: QueuedMail) -> Mail:
    return Mail(
        to=row.address,
        subject=row.subject,
        body=row.body,
        recipient_id=row.recipient_id,
        mentions=tuple(row.mentions),
    )
