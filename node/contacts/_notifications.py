"""Mail about notices (:mod:`node.contacts.notices`): new requests, acceptances and
messages, and the one reminder about a request left unanswered.

A notice that wants mail counts its events in ``unmailed``, written in the inbox
transaction; this worker picks them up after the commit and, in the one
transaction that sets them back to zero, puts the mails into the mail queue
(``node.mail``), whose worker sends them with retries. So a repeated delivery, a
retried handler or two workers racing never mail twice, and nothing is lost
between claim and send.

At most one mail per kind and hour goes to a resident: the first event is mailed
at once, what arrives within the hour after it waits and is then told in one
summarising mail ("3 new messages from …"). A notice the resident has seen on the
portal meanwhile needs no mail any more. Mails say what happened and link to the
portal; they never carry what a message says, and before consent nobody's name.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from node.contacts.consent import is_closed, is_mutual, still_open
from node.contacts.notices import CONTACTS_PATH, REQUESTS_PATH, wants_mail
from node.mail import queue as mail_queue
from node.models import Contact, Message, Notice, NoticeMail, Resident, utcnow
from node.models.contacts import CONSENT_NONE, CONSENT_YES
from node.models.notifications import NOTICE_ACCEPTANCE, NOTICE_MESSAGE, NOTICE_REQUEST
from node.runtime.db import Database
from node.runtime.i18n import N_
from node.runtime.mail import Mail, Mailer, MailText

log = logging.getLogger(__name__)

MAIL_INTERVAL = timedelta(hours=1)
REMIND_AFTER = timedelta(days=14)
BATCH = 100

NEW_REQUEST = MailText(
    subject=N_("%(portal)s: a new contact request"),
    body=N_(
        "Hello %(name)s,\n\n"
        "someone in the partner city would like to get in contact with you on %(portal)s. "
        "See what you have in common and answer here:\n\n"
        "%(link)s\n\n"
        "You can switch these mails off in your settings."
    ),
)
NEW_REQUESTS = MailText(
    subject=N_("%(portal)s: %(count)s new contact requests"),
    body=N_(
        "Hello %(name)s,\n\n"
        "%(count)s people in the partner city would like to get in contact with you on "
        "%(portal)s. See what you have in common and answer here:\n\n"
        "%(link)s\n\n"
        "You can switch these mails off in your settings."
    ),
)
ACCEPTED = MailText(
    subject=N_("%(portal)s: your contact request was accepted"),
    body=N_(
        "Hello %(name)s,\n\n"
        "good news: your contact request on %(portal)s was accepted. You can now write "
        "to each other:\n\n"
        "%(link)s\n\n"
        "You can switch these mails off in your settings."
    ),
)
ACCEPTED_SEVERAL = MailText(
    subject=N_("%(portal)s: %(count)s of your contact requests were accepted"),
    body=N_(
        "Hello %(name)s,\n\n"
        "good news: %(count)s of your contact requests on %(portal)s were accepted. "
        "You can now write to each other:\n\n"
        "%(link)s\n\n"
        "You can switch these mails off in your settings."
    ),
)
NEW_MESSAGE = MailText(
    subject=N_("%(portal)s: new message from %(sender)s"),
    body=N_(
        "Hello %(name)s,\n\n"
        "%(sender)s wrote to you on %(portal)s. Read and answer here:\n\n"
        "%(link)s\n\n"
        "You can switch these mails off in your settings."
    ),
)
NEW_MESSAGES = MailText(
    subject=N_("%(portal)s: %(count)s new messages from %(senders)s"),
    body=N_(
        "Hello %(name)s,\n\n"
        "%(count)s new messages from %(senders)s are waiting for you on %(portal)s. "
        "Read and answer here:\n\n"
        "%(link)s\n\n"
        "You can switch these mails off in your settings."
    ),
)
REMINDER = MailText(
    subject=N_("%(portal)s: a contact request is waiting for your answer"),
    body=N_(
        "Hello %(name)s,\n\n"
        "two weeks ago someone in the partner city asked you for contact on %(portal)s, "
        "and the request is still waiting for your answer. Whether yes or no, they will "
        "be glad to know:\n\n"
        "%(link)s\n\n"
        "This is the only reminder. You can switch these mails off in your settings."
    ),
)
REMINDERS = MailText(
    subject=N_("%(portal)s: %(count)s contact requests are waiting for your answer"),
    body=N_(
        "Hello %(name)s,\n\n"
        "%(count)s contact requests on %(portal)s have been waiting for your answer for "
        "two weeks. Whether yes or no, the people who asked will be glad to know:\n\n"
        "%(link)s\n\n"
        "This is the only reminder. You can switch these mails off in your settings."
    ),
)

UNNAMED = N_("your contact")


def _relevant(kind: str, contact: Contact) -> bool:
    """Still worth a mail: a request that waits, a contact that is mutual."""
    if kind == NOTICE_REQUEST:
        return (
            not is_closed(contact)
            and contact.my_consent == CONSENT_NONE
            and contact.their_consent == CONSENT_YES
        )
    return is_mutual(contact)


def _url(mailer: Mailer, path: str) -> str:
    return f"{mailer.config.node.base_url}{path}"


def compose(
    mailer: Mailer, resident: Resident, kind: str, items: list[tuple[Notice, Contact]]
) -> Mail:
    """One mail telling what ``items`` (the resident's notices of one kind) hold. A
    mail that names a peer resident is tagged with their pseudonym actor, so that
    its file goes when they delete their account."""
    values: dict[str, str | int] = {"name": resident.display_name}
    mentions: tuple[str, ...] = ()
    single = len(items) == 1
    contact_link = f"{CONTACTS_PATH}/{items[0][1].id}" if single else CONTACTS_PATH
    if kind == NOTICE_REQUEST:
        count = sum(notice.unmailed for notice, _ in items)
        text = NEW_REQUEST if count == 1 else NEW_REQUESTS
        values.update(count=count, link=_url(mailer, REQUESTS_PATH))
    elif kind == NOTICE_ACCEPTANCE:
        text = ACCEPTED if single else ACCEPTED_SEVERAL
        values.update(count=len(items), link=_url(mailer, contact_link))
    else:
        unnamed = mailer.catalogues.get(resident.language).gettext(UNNAMED)
        count = sum(notice.unmailed for notice, _ in items)
        senders = ", ".join(dict.fromkeys(contact.their_name or unnamed for _, contact in items))
        text = NEW_MESSAGE if count == 1 else NEW_MESSAGES
        values.update(count=count, sender=senders, senders=senders)
        values["link"] = _url(mailer, contact_link)
        mentions = tuple(contact.remote_actor for _, contact in items)
    return mailer.compose(
        text,
        resident.email,
        resident.language,
        recipient_id=resident.id,
        mentions=mentions,
        **values,
    )


async def _due(session: AsyncSession, now: datetime) -> list[tuple[int, str]]:
    """(resident, kind) pairs with events to mail whose last mail is an hour old."""
    rows = await session.execute(
        select(Notice.resident_id, Notice.kind)
        .distinct()
        .outerjoin(
            NoticeMail,
            and_(NoticeMail.resident_id == Notice.resident_id, NoticeMail.kind == Notice.kind),
        )
        .where(
            Notice.unmailed > 0,
            or_(NoticeMail.last_sent_at.is_(None), NoticeMail.last_sent_at <= now - MAIL_INTERVAL),
        )
        .order_by(Notice.resident_id, Notice.kind)
        .limit(BATCH)
    )
    return [(resident_id, kind) for resident_id, kind in rows.all()]


async def _claim(
    session: AsyncSession, mailer: Mailer, resident_id: int, kind: str, now: datetime
) -> Mail | None:
    """Set the resident's notices of ``kind`` to mailed; the mail that tells of them,
    unless nothing in them is worth one any more or the kind is switched off."""
    rows = (
        await session.execute(
            select(Notice, Contact)
            .join(Contact, Contact.id == Notice.contact_id)
            .where(Notice.resident_id == resident_id, Notice.kind == kind, Notice.unmailed > 0)
            .order_by(Notice.updated_at, Notice.id)
            .with_for_update(of=Notice)
            .execution_options(populate_existing=True)
        )
    ).all()
    last = await session.get(
        NoticeMail, (resident_id, kind), with_for_update=True, populate_existing=True
    )
    if not rows or (last is not None and last.last_sent_at > now - MAIL_INTERVAL):
        return None  # another worker was quicker
    items = [(notice, contact) for notice, contact in rows if _relevant(kind, contact)]
    resident = await session.get(Resident, resident_id)
    mail = (
        compose(mailer, resident, kind, items)
        if resident is not None and items and wants_mail(resident, kind)
        else None
    )
    for notice, _ in rows:
        notice.unmailed = 0
    if mail is None:
        return None
    if last is None:
        session.add(NoticeMail(resident_id=resident_id, kind=kind, last_sent_at=now))
    else:
        last.last_sent_at = now
    if kind == NOTICE_MESSAGE:
        await session.execute(
            update(Message)
            .where(
                Message.contact_id.in_([contact.id for _, contact in items]),
                Message.direction == "in",
                Message.notify == "pending",
            )
            .values(notify="sent")
            .execution_options(synchronize_session=False)
        )
    return mail


async def queue_pending(db: Database, mailer: Mailer, *, now: datetime | None = None) -> int:
    """One round: queue the mails that are due. Returns how many (resident, kind)
    pairs were settled; the caller repeats until none are."""
    moment = now or utcnow()
    async with db.write() as uow:
        due = await _due(uow, moment)
        mails = []
        for resident_id, kind in due:
            mail = await _claim(uow, mailer, resident_id, kind, moment)
            if mail is not None:
                mails.append(mail)
        await mail_queue.enqueue(uow, mails)
    return len(due)


async def remind_waiting(db: Database, mailer: Mailer, *, now: datetime | None = None) -> int:
    """Mark requests unanswered for ``REMIND_AFTER`` reminded and queue one mail per
    resident who wants request mails. Returns how many requests were marked."""
    moment = now or utcnow()
    async with db.write() as uow:
        rows = (
            await uow.execute(
                select(Notice, Resident)
                .join(Contact, Contact.id == Notice.contact_id)
                .join(Resident, Resident.id == Notice.resident_id)
                .where(
                    Notice.kind == NOTICE_REQUEST,
                    Notice.reminded_at.is_(None),
                    Notice.created_at <= moment - REMIND_AFTER,
                    still_open(),
                    Contact.my_consent == CONSENT_NONE,
                    Contact.their_consent == CONSENT_YES,
                )
                .order_by(Notice.id)
                .limit(BATCH)
                .with_for_update(of=Notice, skip_locked=True)
            )
        ).all()
        waiting: dict[int, list[Notice]] = defaultdict(list)
        residents: dict[int, Resident] = {}
        for notice, resident in rows:
            notice.reminded_at = moment
            if wants_mail(resident, NOTICE_REQUEST):
                waiting[resident.id].append(notice)
                residents[resident.id] = resident
        mails = [
            mailer.compose(
                REMINDER if len(notices) == 1 else REMINDERS,
                residents[resident_id].email,
                residents[resident_id].language,
                recipient_id=resident_id,
                name=residents[resident_id].display_name,
                count=len(notices),
                link=_url(mailer, REQUESTS_PATH),
            )
            for resident_id, notices in waiting.items()
        ]
        await mail_queue.enqueue(uow, mails)
    return len(rows)
