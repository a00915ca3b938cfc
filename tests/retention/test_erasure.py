"""An account deleted after contact, names and messages: afterwards not one byte of the
resident's name, about-text, e-mail address or messages is left in either node's
database file or data directory — with the partner city up, and with it down while
the account is deleted (the queued ``Delete`` arrives when it is back)."""

from __future__ import annotations

import json
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import select

from node.accounts import accounts
from node.contacts import consent as contacts
from node.contacts import messages, reports
from node.models import Base, Message, Report, Resident
from node.runtime import appkeys
from node.runtime.mail import actor_tag, mail_file_tags
from node.vectors.appkeys import PUBLISHER
from support.contacts import (
    BRUNO_NAME,
    act,
    add_account,
    add_person,
    ask,
    messages_of,
    twin_cities,
    until_contact,
)
from support.databases import postgres_server_url
from support.federation import FAST, trusting, wait_for
from support.nodes import RunningNode, node_pair, wake
from support.population import pseudonym_urls, remote_vectors
from support.web import PASSWORD, Visitor

ZOE_EMAIL = "zoe.qxmail7731@oldenburg.example"
ZOE_NAME = "Zoëqxname Ølmann"
ZOE_ABOUT = "Ich qxabout7731 fahre gern Rad — und singe im Chor."
ZOE_MESSAGES = ("Grüße qxmsg7731-eins aus Oldenburg!", "qxmsg7731-zwei ✓ bis bald")
ZOE_LATE_MESSAGE = "qxmsg7731-drei, geschrieben während Cholet fort ist"
YANN_EMAIL = "yann.qxmail4417@cholet.example"
YANN_NAME = "Yannqxname Lefèvre"
YANN_ABOUT = "Je qxabout4417 chante dans une chorale."
YANN_MESSAGES = ("qxmsg4417 À bientôt, Zoë !",)

ZOE = (ZOE_EMAIL, ZOE_NAME, ZOE_ABOUT, *ZOE_MESSAGES)
YANN = (YANN_EMAIL, YANN_NAME, YANN_ABOUT, *YANN_MESSAGES)


def _forms(marker: str) -> list[bytes]:
    """How a string can sit in a file: UTF-8, JSON-escaped (the stored activities),
    UTF-16 (SQLite can store text so)."""
    return [marker.encode(), json.dumps(marker)[1:-1].encode(), marker.encode("utf-16-le")]


def _texts(path: Path) -> list[bytes]:
    data = path.read_bytes()
    texts = [data]
    if path.suffix == ".eml":
        mail = message_from_bytes(data, policy=policy.default)
        texts.append("\n".join(f"{k}: {v}" for k, v in mail.items()).encode())
        for part in mail.walk():
            if not part.is_multipart():
                texts.append(str(part.get_content()).encode())  # type: ignore[attr-defined]
    return texts


def leftovers(files: list[Path], markers: tuple[str, ...]) -> list[tuple[str, str]]:
    found = []
    for path in files:
        texts = _texts(path)
        for marker in markers:
            if any(form in text for form in _forms(marker) for text in texts):
                found.append((path.name, marker))
    return found


def files_of(root: Path, node: RunningNode) -> list[Path]:
    """The node's data directory and, on SQLite, its database file (with -wal, -shm,
    -journal if present) wherever it lies."""
    files = [p for p in node.config.data_dir.rglob("*") if p.is_file()]
    if node.config.database_url.startswith("sqlite"):
        database = Path(node.config.database_url.split("///", 1)[1])
        files += [p for p in database.parent.glob(database.name + "*") if p.is_file()]
    return sorted(set(files))


async def rows_with(node: RunningNode, markers: tuple[str, ...]) -> list[tuple[str, str]]:
    """(table, marker) for every marker found in any column of any row: the same check
    at the level of the rows, which also covers PostgreSQL, whose files are not ours to
    read (deleted tuples stay there until VACUUM, docs/retention.md)."""
    assert node.app is not None
    found = []
    async with node.app[appkeys.DATABASE].read() as uow:
        for table in Base.metadata.sorted_tables:
            for row in (await uow.execute(select(table))).all():
                text = json.dumps([str(value) for value in row], ensure_ascii=False)
                found += [(table.name, marker) for marker in markers if marker in text]
    return sorted(set(found))


def mail_files(node: RunningNode) -> list[Path]:
    directory = node.config.path(node.config.mail.directory)
    return sorted(directory.glob("*.eml")) if directory.is_dir() else []


@pytest.mark.parametrize("peer_down", [False, True], ids=["peer-up", "peer-down"])
async def test_a_deleted_account_leaves_no_byte_on_either_node(
    tmp_path: Path, peer_down: bool
) -> None:
    async with node_pair(tmp_path, overrides=FAST) as (oldenburg, cholet):
        await wait_for(lambda: trusting(oldenburg, cholet), what="Oldenburg trusts Cholet")
        await wait_for(lambda: trusting(cholet, oldenburg), what="Cholet trusts Oldenburg")
        zoe = await add_person(
            oldenburg, ZOE_EMAIL, ZOE_NAME, ZOE_ABOUT, {"de": "native", "fr": "B1"}
        )
        yann = await add_person(
            cholet, YANN_EMAIL, YANN_NAME, YANN_ABOUT, {"fr": "native", "de": "B1"}
        )
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
        await ask(oldenburg, zoe, yann_actor)
        asked = await until_contact(cholet, yann, lambda c: c.their_consent == "yes", "request")
        await act(cholet, contacts.answer_request, yann, asked.id, accept=True)
        mine = await until_contact(oldenburg, zoe, lambda c: c.their_name == YANN_NAME, "reveal")
        theirs = await until_contact(cholet, yann, lambda c: c.their_about == ZOE_ABOUT, "reveal")
        for text in ZOE_MESSAGES:
            await act(oldenburg, messages.send_message, zoe, mine.id, text)
        for text in YANN_MESSAGES:
            await act(cholet, messages.send_message, yann, theirs.id, text)

        async def conversation_and_mails() -> bool:
            there = await messages_of(cholet, theirs.id)
            here = await messages_of(oldenburg, mine.id)
            names = [mail_file_tags(path.name) for path in mail_files(cholet)]
            mailed_yann = any(tags and actor_tag(zoe_actor) in tags.actor_tags for tags in names)
            mailed_zoe = any(
                (tags := mail_file_tags(path.name)) and tags.resident_id == zoe
                for path in mail_files(oldenburg)
            )
            return len(there) == len(here) == 3 and mailed_yann and mailed_zoe

        await wait_for(conversation_and_mails, what="messages and notification mails")
        # The markers are there before: the scan below would see them.
        assert leftovers(files_of(tmp_path, cholet), ZOE)
        assert {marker for _, marker in await rows_with(cholet, ZOE)} == set(ZOE) - {ZOE_EMAIL}
        assert all(path.stat().st_mode & 0o777 == 0o600 for path in mail_files(cholet))

        markers = ZOE
        if peer_down:
            await cholet.stop()
            # Written while Cholet is away: queued, then discarded by the deletion.
            await act(oldenburg, messages.send_message, zoe, mine.id, ZOE_LATE_MESSAGE)
            markers = (*ZOE, ZOE_LATE_MESSAGE)
        async with Visitor(oldenburg) as visitor:
            assert (await visitor.login(ZOE_EMAIL)).status_code == 303
            gone = await visitor.submit(
                "/settings/delete", {"password": PASSWORD, "confirm": "1"}, page="/settings"
            )
            assert gone.status_code == 200
        if peer_down:
            await cholet.start()
        ended = await until_contact(
            cholet, yann, lambda c: c.remote_deleted_at is not None, "the Delete applied"
        )
        assert ended.their_name is None and ended.their_about is None
        assert cholet.app is not None
        async with cholet.app[appkeys.DATABASE].read() as uow:
            kept = list(await uow.scalars(select(Message.body).where(Message.direction == "out")))
        assert kept == list(YANN_MESSAGES)  # Yann's own side of the conversation stays
        assert [m.direction for m in await messages_of(cholet, ended.id)] == ["out"]
        assert await rows_with(oldenburg, markers) == []
        assert await rows_with(cholet, markers) == []
        assert await rows_with(oldenburg, YANN) == []

        await oldenburg.stop()
        await cholet.stop()
        everything = files_of(tmp_path, oldenburg) + files_of(tmp_path, cholet)
        # On PostgreSQL the data directories hold the mail files and keys; the database
        # files are the server's own (the rows were checked above).
        assert len(everything) > (2 if postgres_server_url() else 4)
        assert leftovers(everything, markers) == []
        # What Zoë received was hers only: Oldenburg keeps nothing of Yann either.
        assert leftovers(files_of(tmp_path, oldenburg), YANN) == []
        assert mail_files(oldenburg) == [] or all(
            (tags := mail_file_tags(path.name)) is None or tags.resident_id != zoe
            for path in mail_files(oldenburg)
        )


async def test_closed_reports_lose_their_copies_open_ones_keep_them(tmp_path: Path) -> None:
    """Bruno reports Anna twice; an admin at Cholet closes one case. When Anna deletes
    her account, the closed report keeps its reason and dates but no copy of what she
    wrote nor Bruno's comment; the open case keeps both until an admin closes it."""
    async with twin_cities(tmp_path, pages=False) as cities:
        await ask(cities.oldenburg, cities.anna, cities.bruno_actor)
        asked = await until_contact(
            cities.cholet, cities.bruno, lambda c: c.their_consent == "yes", "request"
        )
        await act(cities.cholet, contacts.answer_request, cities.bruno, asked.id, accept=True)
        mine = await until_contact(
            cities.oldenburg, cities.anna, lambda c: c.their_name == BRUNO_NAME, "reveal"
        )
        await act(cities.oldenburg, messages.send_message, cities.anna, mine.id, "qxreported")

        async def arrived() -> bool:
            return len(await messages_of(cities.cholet, asked.id)) == 1

        await wait_for(arrived, what="the message at Cholet")
        closed = await act(
            cities.cholet, reports.file_report, cities.bruno, asked.id, "spam", "qxcomment"
        )
        still_open = await act(
            cities.cholet, reports.file_report, cities.bruno, asked.id, "other", "qxcomment"
        )
        admin = await add_account(cities.cholet, "admin@cholet.example", role="admin")
        assert cities.cholet.app is not None and cities.oldenburg.app is not None
        async with cities.cholet.app[appkeys.DATABASE].write() as uow:
            clerk = await uow.get(Resident, admin)
            assert clerk is not None
            await reports.dismiss(uow, clerk, closed.id)

        async with cities.oldenburg.app[appkeys.DATABASE].write() as uow:
            anna = await uow.get(Resident, cities.anna)
            assert anna is not None
            await accounts.delete_account(uow, anna, cities.oldenburg.app[PUBLISHER])
        await until_contact(
            cities.cholet, cities.bruno, lambda c: c.remote_deleted_at is not None, "Delete"
        )
        async with cities.cholet.app[appkeys.DATABASE].read() as uow:
            kept = {row.id: row for row in await uow.scalars(select(Report))}
        assert (kept[closed.id].state, kept[closed.id].reason) == ("dismissed", "spam")
        assert (kept[closed.id].comment, kept[closed.id].messages) == ("", [])
        assert kept[still_open.id].comment == "qxcomment"
        assert [m["body"] for m in kept[still_open.id].messages] == ["qxreported"]
