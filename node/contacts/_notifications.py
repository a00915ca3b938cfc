"""Mail about new messages, queued after the message is safely stored, once.

An incoming message is stored with ``notify = pending`` (when the resident wants
mail) in the inbox transaction; this worker picks such rows up after the commit and,
in the one transaction that marks them ``sent``, puts the mails into the mail queue
(``node.mail``), whose worker sends them with retries. So a message delivered twice,
a handler retried, or two workers racing never mail twice, and no notification is
lost between claim and send. One mail per resident and round, naming how many
messages arrived, not what they say: the text stays on the portal.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from node.mail import queue as mail_queue
from node.models import Contact, Message, Resident
from node.runtime.db import Database
from node.runtime.i18n import N_
from node.runtime.mail import Mail, Mailer, MailText

log = logging.getLogger(__name__)

CONVERSATIONS_PATH = "/contacts"
BATCH = 200

NEW_MESSAGES = MailText(
    subject=N_("%(portal)s: new message from %(sender)s"),
    body=N_(
        "Hello %(name)s,\n\n"
        "%(sender)s wrote to you on %(portal)s (%(count)s new). Read and answer here:\n\n"
        "%(link)s\n\n"
        "You can switch these mails off in your settings."
    ),
)

UNNAMED = N_("your contact")


Claimed = tuple[Resident, str, int, int, str]


async def claim_pending(session: AsyncSession) -> tuple[int, list[Claimed]]:
    """Mark a batch of pending notifications sent; return how many rows were claimed
    and, per resident and contact, (resident, sender, count, contact id, sender's actor)."""
    rows = (
        await session.execute(
            select(
                Message.id,
                Contact.id,
                Contact.resident_id,
                Contact.their_name,
                Contact.remote_actor,
            )
            .join(Contact, Contact.id == Message.contact_id)
            .where(Message.notify == "pending")
            .order_by(Message.id)
            .limit(BATCH)
            .with_for_update(of=Message, skip_locked=True)
        )
    ).all()
    if not rows:
        return 0, []
    await session.execute(
        update(Message)
        .where(Message.id.in_([row[0] for row in rows]), Message.notify == "pending")
        .values(notify="sent")
        .execution_options(synchronize_session=False)
    )
    grouped: dict[tuple[int, int, str], list[str | None]] = defaultdict(list)
    for _message_id, contact_id, resident_id, sender, actor in rows:
        grouped[(resident_id, contact_id, actor)].append(sender)
    result = []
    for (resident_id, contact_id, actor), senders in grouped.items():
        resident = await session.get(Resident, resident_id)
        if resident is not None and resident.notify_messages and resident.status == "active":
            result.append((resident, senders[-1] or "", len(senders), contact_id, actor))
    return len(rows), result


def compose(
    mailer: Mailer, resident: Resident, sender: str, count: int, contact_id: int, actor: str
) -> Mail:
    """The mail names the sender, so its file is tagged with the sender's pseudonym
    actor: if they delete their account, the file goes with it."""
    link = f"{mailer.config.node.base_url}{CONVERSATIONS_PATH}/{contact_id}"
    unnamed = mailer.catalogues.get(resident.language).gettext(UNNAMED)
    return mailer.compose(
        NEW_MESSAGES,
        resident.email,
        resident.language,
        recipient_id=resident.id,
        mentions=(actor,),
        name=resident.display_name,
        sender=sender or unnamed,
        count=count,
        link=link,
    )


async def queue_pending(db: Database, mailer: Mailer) -> int:
    """One round: claim and queue the mails. Returns the number of messages claimed."""
    async with db.write() as uow:
        count, claimed = await claim_pending(uow)
        await mail_queue.enqueue(uow, [compose(mailer, *item) for item in claimed])
    return count
