"""Double opt-in between Oldenburg and Cholet over real HTTP: request, answer, reveal,
messages, withdrawal and blocking, seen on both nodes and driven through the pages."""

from __future__ import annotations

from pathlib import Path

from node.contacts import consent as contacts
from node.contacts import messages
from node.contacts.consent import ContactError, is_mutual
from support.contacts import (
    ANNA,
    ANNA_ABOUT,
    ANNA_NAME,
    BRUNO,
    BRUNO_NAME,
    act,
    ask,
    messages_of,
    the_contact,
    twin_cities,
    until_contact,
)
from support.federation import wait_for
from support.web import Visitor


async def test_request_accept_reveal_and_write_both_ways(tmp_path: Path) -> None:
    async with (
        twin_cities(tmp_path) as cities,
        Visitor(cities.oldenburg) as anna,
        Visitor(cities.cholet, "fr") as bruno,
    ):
        assert (await anna.login(ANNA)).status_code == 303
        assert (await bruno.login(BRUNO)).status_code == 303

        async def suggested() -> bool:
            return cities.bruno_actor in (await anna.get("/twin")).text

        await wait_for(suggested, what="Bruno suggested to Anna")
        asked = await anna.submit("/contacts/request", {"actor": cities.bruno_actor}, page="/twin")
        assert asked.status_code == 303
        assert asked.headers["Location"] == "/contacts/requests?done=asked"
        twin_page = await anna.get("/twin")
        assert (
            'name="actor"' not in twin_page.text and "/contacts/requests#request-" in twin_page.text
        )
        sent = await anna.get("/contacts/requests")
        assert "Wartet auf Antwort" in sent.text

        incoming = await until_contact(
            cities.cholet, cities.bruno, lambda c: c.their_consent == "yes", "request at Cholet"
        )
        assert incoming.their_name is None
        page = await bruno.get("/contacts/requests")
        assert page.status_code == 200
        assert f'id="request-{incoming.id}"' in page.text
        assert ANNA_NAME not in page.text and ANNA_ABOUT not in page.text
        assert "Vélo" in page.text or "vélo" in page.text  # the shared interest, in French
        assert "Affinité" in page.text and " %</dd>" in page.text  # the score

        accepted = await bruno.submit(
            f"/contacts/{incoming.id}/answer", {"decision": "accept"}, page="/contacts/requests"
        )
        assert accepted.status_code == 303

        at_cholet = await until_contact(
            cities.cholet, cities.bruno, lambda c: c.their_name == ANNA_NAME, "Anna revealed"
        )
        at_oldenburg = await until_contact(
            cities.oldenburg, cities.anna, lambda c: c.their_name == BRUNO_NAME, "Bruno revealed"
        )
        assert is_mutual(at_cholet) and is_mutual(at_oldenburg)
        assert at_cholet.their_about == ANNA_ABOUT

        text = "Hallo Bruno! Schau: https://example.org/rad?x=1 <b>fett</b>\nZweite Zeile"
        wrote = await anna.submit(
            f"/contacts/{at_oldenburg.id}/messages",
            {"body": text},
            page=f"/contacts/{at_oldenburg.id}",
        )
        assert wrote.status_code == 303

        async def arrived() -> bool:
            return len(await messages_of(cities.cholet, at_cholet.id)) == 1

        await wait_for(arrived, what="message at Cholet")
        listing = await bruno.get("/contacts")
        assert "1 message non lu" in listing.text
        conversation = await bruno.get(f"/contacts/{at_cholet.id}")
        assert ANNA_NAME in conversation.text and ANNA_ABOUT in conversation.text
        assert "&lt;b&gt;fett&lt;/b&gt;" in conversation.text
        assert (
            '<a href="https://example.org/rad?x=1" rel="nofollow noopener ugc"' in conversation.text
        )
        listing = await bruno.get("/contacts")
        assert "non lu" not in listing.text

        replied = await bruno.submit(
            f"/contacts/{at_cholet.id}/messages",
            {"body": "Bonjour Anna !"},
            page=f"/contacts/{at_cholet.id}",
        )
        assert replied.status_code == 303

        async def answered() -> bool:
            return [m.body for m in await messages_of(cities.oldenburg, at_oldenburg.id)] == [
                text.replace("\r\n", "\n"),
                "Bonjour Anna !",
            ]

        await wait_for(answered, what="reply at Oldenburg")
        page = await anna.get(f"/contacts/{at_oldenburg.id}")
        assert "Bonjour Anna !" in page.text and BRUNO_NAME in page.text

        too_long = await anna.submit(
            f"/contacts/{at_oldenburg.id}/messages",
            {"body": "x" * 5001},
            page=f"/contacts/{at_oldenburg.id}",
        )
        assert too_long.status_code == 400
        assert len(await messages_of(cities.oldenburg, at_oldenburg.id)) == 2


async def test_both_ask_and_the_contact_is_mutual_at_once(tmp_path: Path) -> None:
    async with twin_cities(tmp_path, pages=False) as cities:
        await ask(cities.oldenburg, cities.anna, cities.bruno_actor)
        await ask(cities.cholet, cities.bruno, cities.anna_actor)
        at_oldenburg = await until_contact(
            cities.oldenburg, cities.anna, lambda c: c.their_name == BRUNO_NAME, "reveal"
        )
        at_cholet = await until_contact(
            cities.cholet, cities.bruno, lambda c: c.their_name == ANNA_NAME, "reveal"
        )
        assert is_mutual(at_oldenburg) and is_mutual(at_cholet)
        assert at_oldenburg.my_follow_id and at_oldenburg.their_follow_id
        message = await act(
            cities.oldenburg, messages.send_message, cities.anna, at_oldenburg.id, "Salut"
        )
        assert message.direction == "out"


async def test_no_means_no_and_nothing_is_revealed(tmp_path: Path) -> None:
    async with twin_cities(tmp_path, pages=False) as cities:
        await ask(cities.oldenburg, cities.anna, cities.bruno_actor)
        incoming = await until_contact(
            cities.cholet, cities.bruno, lambda c: c.their_consent == "yes", "request"
        )
        await act(cities.cholet, contacts.answer_request, cities.bruno, incoming.id, accept=False)
        mine = await until_contact(
            cities.oldenburg, cities.anna, lambda c: c.their_consent == "declined", "declined"
        )
        assert contacts.standing(mine) == "declined" and mine.their_name is None
        assert (await the_contact(cities.cholet, cities.bruno)).their_name is None
        for node, resident, contact_id in (
            (cities.oldenburg, cities.anna, mine.id),
            (cities.cholet, cities.bruno, incoming.id),
        ):
            try:
                await act(node, messages.send_message, resident, contact_id, "hello?")
            except ContactError as exc:
                assert exc.code == "not_mutual"
            else:
                raise AssertionError("a message was sent without consent")
        try:
            await ask(cities.oldenburg, cities.anna, cities.bruno_actor)
        except ContactError as exc:
            assert exc.code == "ended"
        else:
            raise AssertionError("a declined request was repeated")


async def test_withdrawing_ends_the_contact_on_both_nodes(tmp_path: Path) -> None:
    async with (
        twin_cities(tmp_path) as cities,
        Visitor(cities.oldenburg) as anna,
    ):
        await ask(cities.oldenburg, cities.anna, cities.bruno_actor)
        incoming = await until_contact(
            cities.cholet, cities.bruno, lambda c: c.their_consent == "yes", "request"
        )
        await act(cities.cholet, contacts.answer_request, cities.bruno, incoming.id, accept=True)
        mine = await until_contact(
            cities.oldenburg, cities.anna, lambda c: c.their_name == BRUNO_NAME, "mutual"
        )
        assert (await anna.login(ANNA)).status_code == 303
        ended = await anna.submit(
            f"/contacts/{mine.id}/withdraw", {"next": "/contacts"}, page=f"/contacts/{mine.id}"
        )
        assert ended.headers["Location"] == "/contacts?done=withdrawn"
        assert contacts.standing(await the_contact(cities.oldenburg, cities.anna)) == "withdrawn"
        theirs = await until_contact(
            cities.cholet, cities.bruno, lambda c: c.their_consent == "withdrawn", "withdrawn"
        )
        assert not is_mutual(theirs)
        try:
            await act(cities.cholet, messages.send_message, cities.bruno, theirs.id, "still there?")
        except ContactError as exc:
            assert exc.code == "not_mutual"
        else:
            raise AssertionError("sent after withdrawal")
        page = await anna.get(f"/contacts/{mine.id}")
        assert 'name="body"' not in page.text


async def test_a_request_can_be_withdrawn_before_the_answer(tmp_path: Path) -> None:
    async with twin_cities(tmp_path, pages=False) as cities:
        asked = await ask(cities.oldenburg, cities.anna, cities.bruno_actor)
        await until_contact(cities.cholet, cities.bruno, lambda c: c.their_consent == "yes", "req")
        await act(cities.oldenburg, contacts.withdraw, cities.anna, asked.id)
        theirs = await until_contact(
            cities.cholet, cities.bruno, lambda c: c.their_consent == "withdrawn", "undone"
        )
        try:
            await act(cities.cholet, contacts.answer_request, cities.bruno, theirs.id, accept=True)
        except ContactError as exc:
            assert exc.code == "not_requested"
        else:
            raise AssertionError("accepted a withdrawn request")


async def test_blocking_takes_effect_on_both_nodes(tmp_path: Path) -> None:
    async with (
        twin_cities(tmp_path) as cities,
        Visitor(cities.cholet, "fr") as bruno,
    ):
        await ask(cities.oldenburg, cities.anna, cities.bruno_actor)
        incoming = await until_contact(
            cities.cholet, cities.bruno, lambda c: c.their_consent == "yes", "request"
        )
        await act(cities.cholet, contacts.answer_request, cities.bruno, incoming.id, accept=True)
        mine = await until_contact(
            cities.oldenburg, cities.anna, lambda c: c.their_name == BRUNO_NAME, "mutual"
        )
        assert (await bruno.login(BRUNO)).status_code == 303
        blocked = await bruno.submit(
            f"/contacts/{incoming.id}/block", {"next": "/contacts"}, page=f"/contacts/{incoming.id}"
        )
        assert blocked.status_code == 303
        assert (await the_contact(cities.cholet, cities.bruno)).blocked_by_me
        theirs = await until_contact(
            cities.oldenburg, cities.anna, lambda c: c.blocked_by_them, "block at Oldenburg"
        )
        assert contacts.standing(theirs) == "ended" and not is_mutual(theirs)
        try:
            await act(cities.oldenburg, messages.send_message, cities.anna, mine.id, "why?")
        except ContactError as exc:
            assert exc.code == "not_mutual"
        else:
            raise AssertionError("sent to someone who blocked")
