"""Logs never carry a resident's name, address, about-text, message text or a mail's
subject: a whole journey — register, confirm, profile, contact, names revealed,
messages both ways, notification mails, password reset, account deletion — run with
every logger at DEBUG, and no record holds any of them."""

from __future__ import annotations

import logging
import traceback
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import select

from node.contacts import consent as contacts
from node.contacts import messages
from node.models import Resident
from node.runtime import appkeys
from support.contacts import act, add_person, messages_of, until_contact
from support.federation import FAST, trusting, wait_for
from support.nodes import RunningNode, node_pair, wake
from support.population import pseudonym_urls, remote_vectors
from support.web import PROFILE_FORM, Visitor, csrf_token, last_mail_to, link_in, mail_dir

ZOE_EMAIL = "zoe.qxlog5150@oldenburg.example"
ZOE_NAME = "Zoëqxlogname Ølmann"
ZOE_ABOUT = "Ich qxlogabout5150 fahre gern Rad."
ZOE_MESSAGE = "qxlogmsg5150 Grüße aus Oldenburg"
YANN_EMAIL = "yann.qxlog6160@cholet.example"
YANN_NAME = "Yannqxlogname Lefèvre"
YANN_ABOUT = "Je qxlogabout6160 chante."
YANN_MESSAGE = "qxlogmsg6160 À bientôt"
NEW_PASSWORD = "violet tramway umbrella"


def _record_text(record: logging.LogRecord) -> str:
    """Everything a handler could write: message, arguments, extra fields, traceback."""
    parts = [record.getMessage(), repr(record.args)]
    parts += [f"{key}={value!r}" for key, value in vars(record).items()]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append("".join(traceback.format_exception(record.exc_info[1])))
    return "\n".join(parts)


def _subjects(node: RunningNode) -> list[str]:
    folder = mail_dir(node)
    return [
        str(message_from_bytes(path.read_bytes(), policy=policy.default)["Subject"])
        for path in sorted(folder.glob("*.eml"))
    ]


async def test_a_whole_journey_logs_no_personal_text(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with node_pair(tmp_path, overrides=FAST) as (oldenburg, cholet):
        assert oldenburg.app is not None
        await wait_for(lambda: trusting(oldenburg, cholet), what="Oldenburg trusts Cholet")
        await wait_for(lambda: trusting(cholet, oldenburg), what="Cholet trusts Oldenburg")
        yann = await add_person(
            cholet, YANN_EMAIL, YANN_NAME, YANN_ABOUT, {"fr": "native", "de": "B1"}
        )
        async with Visitor(oldenburg) as browser:
            assert (await browser.register(ZOE_EMAIL, name=ZOE_NAME)).status_code == 200
            assert (await browser.verify(ZOE_EMAIL)).status_code == 200
            assert (await browser.login(ZOE_EMAIL)).status_code == 303
            saved = await browser.submit(
                "/profile", {**PROFILE_FORM, "about": ZOE_ABOUT}, page="/profile/wizard"
            )
            assert saved.status_code == 303
            async with oldenburg.app[appkeys.DATABASE].read() as uow:
                zoe = await uow.scalar(select(Resident.id).where(Resident.email == ZOE_EMAIL))
            assert zoe is not None
            zoe_actor = (await pseudonym_urls(oldenburg, zoe))[cholet.config.actor_url]
            yann_actor = (await pseudonym_urls(cholet, yann))[oldenburg.config.actor_url]

            async def exchanged() -> bool:
                for node in (oldenburg, cholet):
                    assert node.app is not None
                    wake(node.app)
                return zoe_actor in await remote_vectors(cholet) and yann_actor in (
                    await remote_vectors(oldenburg)
                )

            await wait_for(exchanged, what="vectors exchanged")
            asked = await browser.submit("/contacts/request", {"actor": yann_actor}, page="/twin")
            assert asked.status_code == 303
            request = await until_contact(cholet, yann, lambda c: c.their_consent == "yes", "ask")
            await act(cholet, contacts.answer_request, yann, request.id, accept=True)
            mine = await until_contact(
                oldenburg, zoe, lambda c: c.their_name == YANN_NAME, "Yann revealed"
            )
            theirs = await until_contact(
                cholet, yann, lambda c: c.their_name == ZOE_NAME, "Zoë revealed"
            )
            wrote = await browser.submit(
                f"/contacts/{mine.id}/messages", {"body": ZOE_MESSAGE}, page=f"/contacts/{mine.id}"
            )
            assert wrote.status_code == 303
            await act(cholet, messages.send_message, yann, theirs.id, YANN_MESSAGE)

            async def mailed() -> bool:
                arrived = len(await messages_of(cholet, theirs.id)) == 2
                return (
                    arrived
                    and len(await messages_of(oldenburg, mine.id)) == 2
                    and any(YANN_NAME in s for s in _subjects(oldenburg))
                    and any(ZOE_NAME in s for s in _subjects(cholet))
                )

            await wait_for(mailed, what="messages and notification mails")
            page = await browser.get(f"/contacts/{mine.id}")
            assert YANN_MESSAGE in page.text

            async with Visitor(oldenburg) as other:
                asked_reset = await other.submit("/password/forgotten", {"email": ZOE_EMAIL})
                assert asked_reset.status_code == 200
                link = link_in(last_mail_to(oldenburg, ZOE_EMAIL), "/password/reset")
                form = await other.get(link)
                done = await other.client.post(
                    "/password/reset",
                    data={
                        "csrf_token": csrf_token(form.text),
                        "token": link.split("token=")[1],
                        "password": NEW_PASSWORD,
                    },
                )
                assert done.status_code == 200
            subjects = _subjects(oldenburg) + _subjects(cholet)
            assert (await browser.login(ZOE_EMAIL, NEW_PASSWORD)).status_code == 303
            gone = await browser.submit(
                "/settings/delete", {"password": NEW_PASSWORD, "confirm": "1"}, page="/settings"
            )
            assert gone.status_code == 200
        await until_contact(cholet, yann, lambda c: c.remote_deleted_at is not None, "Delete")

    markers = [
        ZOE_EMAIL,
        ZOE_NAME,
        ZOE_ABOUT,
        ZOE_MESSAGE,
        YANN_EMAIL,
        YANN_NAME,
        YANN_ABOUT,
        YANN_MESSAGE,
        *subjects,
    ]
    # confirmation, reset, changed; the request, the acceptance, a message on each side
    assert len(subjects) == 7
    assert len(caplog.records) > 50
    found = [
        (record.name, record.msg, marker)
        for record in caplog.records
        for marker in markers
        if marker in _record_text(record)
    ]
    assert found == []
