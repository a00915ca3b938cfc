"""Notifications between Oldenburg and Cholet over real HTTP: a request, an acceptance
and messages each leave a notice on the dashboard, a count in the menu until seen,
and a mail in the resident's language — at most one per kind and hour, then a
summary — plus one reminder about a request left unanswered for two weeks."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from node.accounts import accounts
from node.contacts import _notifications as notifications
from node.contacts import consent as contacts
from node.contacts import messages, notices
from node.contacts._notifications import (
    ACCEPTED,
    NEW_MESSAGE,
    NEW_MESSAGES,
    NEW_REQUEST,
    REMINDER,
    queue_pending,
    remind_waiting,
)
from node.matches.state import match_settings
from node.models import Notice, NoticeMail, Resident, utcnow
from node.runtime import appkeys
from node.runtime.mail import MailText
from node.vectors.appkeys import PUBLISHER
from support.contacts import (
    ANNA,
    ANNA_NAME,
    BRUNO,
    BRUNO_NAME,
    act,
    messages_of,
    the_contact,
    twin_cities,
    until_contact,
)
from support.federation import wait_for
from support.mail import mail_settled
from support.nodes import RunningNode
from support.web import Visitor, body, mails_to

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def subject(node: RunningNode, language: str, text: MailText, **values: object) -> str:
    assert node.app is not None
    t = node.app[appkeys.CATALOGUES].get(language)
    return t.gettext(text.subject) % {"portal": node.config.branding.portal_name, **values}


def menu_label(node: RunningNode, language: str, count: int) -> str:
    """The accessible name of "Contacts" in the menu while ``count`` things are new."""
    assert node.app is not None
    t = node.app[appkeys.CATALOGUES].get(language)
    text = t.ngettext("Contacts, %(count)s new", "Contacts, %(count)s new", count)
    return text % {"count": count}


def subjects(node: RunningNode, address: str) -> list[str]:
    return [str(mail["Subject"]) for mail in mails_to(node, address)]


async def run_notifications(node: RunningNode, **kw: object) -> int:
    """One explicit round of the notification worker with an injected clock; the
    mails it queues are then sent."""
    assert node.app is not None
    db, mailer = node.app[appkeys.DATABASE], node.app[appkeys.MAILER]
    settled = await queue_pending(db, mailer, **kw)  # type: ignore[arg-type]
    await mail_settled(node)
    return settled


async def remind(node: RunningNode, **kw: object) -> int:
    assert node.app is not None
    db, mailer = node.app[appkeys.DATABASE], node.app[appkeys.MAILER]
    marked = await remind_waiting(db, mailer, **kw)  # type: ignore[arg-type]
    await mail_settled(node)
    return marked


async def mailed(node: RunningNode, address: str, wanted: str) -> None:
    async def arrived() -> bool:
        return wanted in subjects(node, address)

    await wait_for(arrived, what=f"the mail {wanted!r}")


async def ask(cities) -> None:  # type: ignore[no-untyped-def]
    """Anna (Oldenburg) asks Bruno (Cholet) for contact."""
    gates = match_settings(cities.oldenburg.config).kind_gates
    await act(
        cities.oldenburg,
        contacts.request_contact,
        cities.anna,
        cities.bruno_actor,
        kind_gates=gates,
    )
    await until_contact(cities.cholet, cities.bruno, lambda c: c.their_consent == "yes", "ask")


async def test_request_and_acceptance_give_notice_count_and_one_mail_each(tmp_path: Path) -> None:
    async with (
        twin_cities(tmp_path) as cities,
        Visitor(cities.cholet, "fr") as bruno,
        Visitor(cities.oldenburg) as anna,
    ):
        await ask(cities)
        asked = subject(cities.cholet, "fr", NEW_REQUEST)
        assert asked != subject(cities.cholet, "en", NEW_REQUEST)  # really in French
        await mailed(cities.cholet, BRUNO, asked)
        mail = mails_to(cities.cholet, BRUNO)[-1]
        text = body(mail)
        assert f"{cities.cholet.url}/contacts/requests" in text
        assert ANNA_NAME not in text and ANNA_NAME not in str(mail["Subject"])
        # A repeated round (the worker's own, or another) mails nothing more.
        assert await run_notifications(cities.cholet) == 0
        assert subjects(cities.cholet, BRUNO) == [asked]

        assert (await bruno.login(BRUNO)).status_code == 303
        dashboard = (await bruno.get("/dashboard")).text
        assert f'aria-label="{menu_label(cities.cholet, "fr", 1)}"' in dashboard
        assert 'id="notices-title"' in dashboard and 'href="/contacts/requests"' in dashboard
        assert ANNA_NAME not in dashboard

        requests = await bruno.get("/contacts/requests")
        assert requests.status_code == 200
        assert "aria-label=" not in requests.text.split('href="/contacts"')[1].split(">")[0]
        dashboard = (await bruno.get("/dashboard")).text
        assert 'id="notices-title"' not in dashboard
        assert menu_label(cities.cholet, "fr", 1) not in dashboard

        contact = await the_contact(cities.cholet, cities.bruno)
        answered = await bruno.submit(
            f"/contacts/{contact.id}/answer", {"decision": "accept"}, page="/contacts/requests"
        )
        assert answered.status_code == 303
        accepted = subject(cities.oldenburg, "de", ACCEPTED)
        await mailed(cities.oldenburg, ANNA, accepted)
        mine = await until_contact(
            cities.oldenburg, cities.anna, lambda c: c.their_name == BRUNO_NAME, "reveal"
        )
        assert subjects(cities.oldenburg, ANNA) == [accepted]
        assert BRUNO_NAME not in body(mails_to(cities.oldenburg, ANNA)[-1])

        assert (await anna.login(ANNA)).status_code == 303
        dashboard = (await anna.get("/dashboard")).text
        assert f'aria-label="{menu_label(cities.oldenburg, "de", 1)}"' in dashboard
        assert f'href="/contacts/{mine.id}"' in dashboard and BRUNO_NAME in dashboard
        assert (await anna.get(f"/contacts/{mine.id}")).status_code == 200
        dashboard = (await anna.get("/dashboard")).text
        assert 'id="notices-title"' not in dashboard

        # An answered request is never reminded of.
        assert await remind(cities.cholet, now=utcnow() + 15 * DAY) == 0
        assert subjects(cities.cholet, BRUNO) == [asked]


async def test_messages_within_the_hour_make_one_mail_then_a_summary(tmp_path: Path) -> None:
    async with twin_cities(tmp_path) as cities, Visitor(cities.oldenburg) as anna:
        await ask(cities)
        theirs = await the_contact(cities.cholet, cities.bruno)
        await act(cities.cholet, contacts.answer_request, cities.bruno, theirs.id, accept=True)
        mine = await until_contact(
            cities.oldenburg, cities.anna, lambda c: c.their_name == BRUNO_NAME, "reveal"
        )
        await until_contact(cities.cholet, cities.bruno, lambda c: c.their_name == ANNA_NAME, "n")

        first = subject(cities.oldenburg, "de", NEW_MESSAGE, sender=BRUNO_NAME)
        await act(cities.cholet, messages.send_message, cities.bruno, theirs.id, "Salut 1")
        await mailed(cities.oldenburg, ANNA, first)
        for text in ("Salut 2", "Salut 3"):
            await act(cities.cholet, messages.send_message, cities.bruno, theirs.id, text)

        async def stored() -> bool:
            return len(await messages_of(cities.oldenburg, mine.id)) == 3

        await wait_for(stored, what="three messages at Oldenburg")
        # Within the hour: nothing more, however often the worker looks.
        assert await run_notifications(cities.oldenburg, now=utcnow() + HOUR / 2) == 0
        message_mails = [s for s in subjects(cities.oldenburg, ANNA) if BRUNO_NAME in s]
        assert message_mails == [first]

        assert (await anna.login(ANNA)).status_code == 303
        dashboard = (await anna.get("/dashboard")).text
        # the acceptance and three messages
        assert f'aria-label="{menu_label(cities.oldenburg, "de", 4)}"' in dashboard

        # After the hour: one mail that sums up what came meanwhile.
        assert await run_notifications(cities.oldenburg, now=utcnow() + HOUR * 1.1) == 1
        summary = subject(cities.oldenburg, "de", NEW_MESSAGES, count=2, senders=BRUNO_NAME)
        message_mails = [s for s in subjects(cities.oldenburg, ANNA) if BRUNO_NAME in s]
        assert message_mails == [first, summary]
        text = body(mails_to(cities.oldenburg, ANNA)[-1])
        assert "Salut" not in text and f"/contacts/{mine.id}" in text

        # Seen on the portal before the next hour is up: no mail needed any more.
        await act(cities.cholet, messages.send_message, cities.bruno, theirs.id, "Salut 4")

        async def fourth() -> bool:
            return len(await messages_of(cities.oldenburg, mine.id)) == 4

        await wait_for(fourth, what="the fourth message")
        assert (await anna.get(f"/contacts/{mine.id}")).status_code == 200
        assert await run_notifications(cities.oldenburg, now=utcnow() + HOUR * 3) == 0
        assert [s for s in subjects(cities.oldenburg, ANNA) if BRUNO_NAME in s] == [first, summary]
        stored_rows = await messages_of(cities.oldenburg, mine.id)
        assert [m.notify for m in stored_rows] == ["sent", "sent", "sent", "none"]
        dashboard = (await anna.get("/dashboard")).text
        assert "aria-label=" not in dashboard.split('href="/contacts"')[1].split(">")[0]

        # Deleting the account takes the resident's notices and mail marks with it.
        assert cities.oldenburg.app is not None
        app = cities.oldenburg.app
        async with app[appkeys.DATABASE].write() as session:
            resident = await session.get(Resident, cities.anna)
            assert resident is not None
            await accounts.delete_account(session, resident, app[PUBLISHER])
        async with app[appkeys.DATABASE].read() as session:
            for table in (Notice, NoticeMail):
                left = await session.scalar(
                    select(func.count()).select_from(table).where(table.resident_id == cities.anna)
                )
                assert left == 0, table


async def test_switched_off_mails_stop_but_the_notice_stays(tmp_path: Path) -> None:
    async with twin_cities(tmp_path) as cities, Visitor(cities.cholet, "fr") as bruno:
        assert (await bruno.login(BRUNO)).status_code == 303
        settings = (await bruno.get("/settings")).text
        for name in ("notify_requests", "notify_acceptances", "notify_messages"):
            assert f'id="f-{name}"' in settings and f'for="f-{name}"' in settings
        saved = await bruno.submit(
            "/settings/preferences",
            {"language": "fr", "notify_acceptances": "1", "notify_messages": "1"},
            page="/settings",
        )
        assert saved.status_code == 303
        assert cities.cholet.app is not None
        async with cities.cholet.app[appkeys.DATABASE].read() as session:
            resident = await session.get(Resident, cities.bruno)
            assert resident is not None
            assert not resident.notify_requests
            assert resident.notify_acceptances and resident.notify_messages

        await ask(cities)
        await run_notifications(cities.cholet, now=utcnow() + HOUR * 2)
        assert mails_to(cities.cholet, BRUNO) == []
        dashboard = (await bruno.get("/dashboard")).text
        assert f'aria-label="{menu_label(cities.cholet, "fr", 1)}"' in dashboard
        assert 'href="/contacts/requests"' in dashboard.split('id="notices-title"')[1]
        # Nor a reminder: the request counts as reminded, without a mail.
        assert await remind(cities.cholet, now=utcnow() + 15 * DAY) == 1
        assert mails_to(cities.cholet, BRUNO) == []


async def test_one_reminder_after_two_weeks_and_none_once_withdrawn(tmp_path: Path) -> None:
    async with twin_cities(tmp_path) as cities:
        await ask(cities)
        asked = subject(cities.cholet, "fr", NEW_REQUEST)
        await mailed(cities.cholet, BRUNO, asked)
        assert await remind(cities.cholet, now=utcnow() + 13 * DAY) == 0
        assert await remind(cities.cholet, now=utcnow() + 14 * DAY + HOUR) == 1
        reminder = subject(cities.cholet, "fr", REMINDER)
        assert subjects(cities.cholet, BRUNO) == [asked, reminder]
        assert f"{cities.cholet.url}/contacts/requests" in body(mails_to(cities.cholet, BRUNO)[-1])
        assert await remind(cities.cholet, now=utcnow() + 30 * DAY) == 0
        assert subjects(cities.cholet, BRUNO) == [asked, reminder]

        # Anna withdraws: the notice goes from Bruno's count, nothing more is mailed.
        mine = await the_contact(cities.oldenburg, cities.anna)
        await act(cities.oldenburg, contacts.withdraw, cities.anna, mine.id)
        await until_contact(
            cities.cholet, cities.bruno, lambda c: c.their_consent == "withdrawn", "undo"
        )
        assert cities.cholet.app is not None
        async with cities.cholet.app[appkeys.DATABASE].write() as session:
            assert (await notices.unseen(session, cities.bruno)).total == 0
            # As if it had never been reminded: a withdrawn request still is not.
            await session.execute(update(Notice).values(reminded_at=None))
        assert await remind(cities.cholet, now=utcnow() + 60 * DAY) == 0
        assert subjects(cities.cholet, BRUNO) == [asked, reminder]
        assert notifications.REMIND_AFTER == 14 * DAY
