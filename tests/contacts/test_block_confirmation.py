"""Blocking after a page that says what it does, and lifting the block from the
settings: the pair starts afresh (nothing restored, nothing sent), the blocker may ask
again, and the other node lifts its side only when that new request arrives."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func, select

from matching.gates import DEFAULT_KIND_GATES
from node.contacts import consent as contacts
from node.contacts import messages
from node.contacts.consent import ContactError, is_mutual
from node.models import OutboxActivity
from node.runtime import appkeys
from support.contacts import (
    ANNA_NAME,
    BRUNO,
    BRUNO_NAME,
    Cities,
    act,
    add_account,
    hand_made,
    moment,
    post_as,
    the_contact,
    twin_cities,
    until_contact,
)
from support.nodes import RunningNode
from support.web import Visitor, csrf_token


async def ask(*args: object) -> object:
    """A request as the page makes it, with the node's kind gates (the default ones)."""
    return await contacts.request_contact(*args, kind_gates=DEFAULT_KIND_GATES)  # type: ignore[arg-type]


async def _outbox_count(node: RunningNode) -> int:
    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as session:
        return int(await session.scalar(select(func.count(OutboxActivity.id))) or 0)


async def _in_contact(cities: Cities) -> int:
    """Anna asks, Bruno says yes, both names revealed; Bruno's contact id."""
    await act(cities.oldenburg, ask, cities.anna, cities.bruno_actor)
    incoming = await until_contact(
        cities.cholet, cities.bruno, lambda c: c.their_consent == "yes", "request at Cholet"
    )
    await act(cities.cholet, contacts.answer_request, cities.bruno, incoming.id, accept=True)
    await until_contact(
        cities.oldenburg, cities.anna, lambda c: c.their_name == BRUNO_NAME, "Bruno revealed"
    )
    await until_contact(
        cities.cholet, cities.bruno, lambda c: c.their_name == ANNA_NAME, "Anna revealed"
    )
    return incoming.id


async def test_block_after_confirmation_then_unblock_and_start_afresh(tmp_path: Path) -> None:
    async with twin_cities(tmp_path) as cities, Visitor(cities.cholet, "fr") as bruno:
        cid = await _in_contact(cities)
        assert (await bruno.login(BRUNO)).status_code == 303

        # The conversation and the requests page only link to the confirmation page.
        conversation = await bruno.get(f"/contacts/{cid}")
        assert f'action="/contacts/{cid}/block"' not in conversation.text
        assert f'href="/contacts/{cid}/block?next=/contacts"' in conversation.text
        requests_page = await bruno.get("/contacts/requests")
        assert f'action="/contacts/{cid}/block"' not in requests_page.text

        confirm = await bruno.get(f"/contacts/{cid}/block?next=/contacts")
        assert confirm.status_code == 200
        assert ANNA_NAME in confirm.text  # the name consent revealed
        assert f'action="/contacts/{cid}/block"' in confirm.text
        assert 'name="next" value="/contacts"' in confirm.text
        assert (await the_contact(cities.cholet, cities.bruno)).blocked_by_me is False

        blocked = await bruno.client.post(
            f"/contacts/{cid}/block",
            data={"csrf_token": csrf_token(confirm.text), "next": "/contacts"},
        )
        assert blocked.status_code == 303
        assert blocked.headers["Location"] == "/contacts?done=blocked"
        assert (await the_contact(cities.cholet, cities.bruno)).blocked_by_me
        at_oldenburg = await until_contact(
            cities.oldenburg, cities.anna, lambda c: c.blocked_by_them, "block at Oldenburg"
        )
        assert contacts.standing(at_oldenburg) == "ended"  # not told why
        assert (
            (await bruno.get(f"/contacts/{cid}/block")).headers["Location"].startswith("/settings")
        )

        settings = await bruno.get("/settings")
        assert ANNA_NAME in settings.text
        assert f'action="/contacts/{cid}/unblock"' in settings.text

        sent_before = await _outbox_count(cities.cholet)
        lifted = await bruno.submit(f"/contacts/{cid}/unblock", {}, page="/settings")
        assert lifted.status_code == 303
        assert lifted.headers["Location"] == "/settings?done=unblocked#blocked-title"
        assert await _outbox_count(cities.cholet) == sent_before  # nothing is sent
        mine = await the_contact(cities.cholet, cities.bruno)
        assert not mine.blocked_by_me and not is_mutual(mine)
        assert (mine.my_consent, mine.their_consent) == ("none", "none")
        assert mine.their_name is None and mine.mutual_since is None
        after = await bruno.get("/settings?done=unblocked")
        assert ANNA_NAME not in after.text
        assert f'action="/contacts/{cid}/unblock"' not in after.text

        # Oldenburg still only knows that the contact ended; Anna cannot ask.
        theirs = await the_contact(cities.oldenburg, cities.anna)
        assert theirs.blocked_by_them and contacts.standing(theirs) == "ended"
        try:
            await act(cities.oldenburg, ask, cities.anna, cities.bruno_actor)
        except ContactError as exc:
            assert exc.code == "ended"
        else:
            raise AssertionError("the blocked side asked before the block was lifted there")

        # Bruno asks afresh: Oldenburg lifts its side, and Anna has to answer anew.
        asked = await bruno.submit(
            "/contacts/request", {"actor": cities.anna_actor, "next": "/twin"}, page="/twin"
        )
        assert asked.status_code == 303, asked.text
        reopened = await until_contact(
            cities.oldenburg,
            cities.anna,
            lambda c: not c.blocked_by_them and c.their_consent == "yes",
            "the new request at Oldenburg",
        )
        assert reopened.my_consent == "none" and reopened.their_name is None
        assert contacts.standing(reopened) == "pending"
        await act(cities.oldenburg, contacts.answer_request, cities.anna, reopened.id, accept=True)
        again = await until_contact(
            cities.cholet, cities.bruno, lambda c: c.their_name == ANNA_NAME, "revealed anew"
        )
        assert is_mutual(again) and again.id == cid
        await until_contact(
            cities.oldenburg, cities.anna, lambda c: c.their_name == BRUNO_NAME, "both ways"
        )
        await act(cities.oldenburg, messages.send_message, cities.anna, reopened.id, "Wieder da!")

        # A copy of the old block, older than the new request, changes nothing there.
        stale = hand_made(
            cities.cholet,
            "Block",
            cities.bruno_actor,
            cities.anna_actor,
            cities.anna_actor,
            published=moment(-600),
        )
        assert (await post_as(cities.cholet, cities.oldenburg, stale)).status_code in (200, 202)
        assert not (await the_contact(cities.oldenburg, cities.anna)).blocked_by_them


async def test_only_ones_own_block_can_be_lifted_or_confirmed(tmp_path: Path) -> None:
    async with (
        twin_cities(tmp_path) as cities,
        Visitor(cities.cholet, "fr") as bruno,
        Visitor(cities.cholet, "fr") as mallory,
    ):
        cid = await _in_contact(cities)
        await act(cities.cholet, contacts.block, cities.bruno, cid)
        await add_account(cities.cholet, "mallory@cholet.example")
        assert (await mallory.login("mallory@cholet.example")).status_code == 303
        assert (await bruno.login(BRUNO)).status_code == 303

        assert (await mallory.get(f"/contacts/{cid}/block")).status_code == 404
        stolen = await mallory.submit(f"/contacts/{cid}/unblock", {}, page="/settings")
        assert stolen.status_code == 404
        assert ANNA_NAME not in (await mallory.get("/settings")).text
        assert (await the_contact(cities.cholet, cities.bruno)).blocked_by_me

        for bad in ("%C2%B2", "1x", "99999999999999999999"):
            assert (
                await bruno.submit(f"/contacts/{bad}/unblock", {}, page="/settings")
            ).status_code == 404
            assert (await bruno.get(f"/contacts/{bad}/block")).status_code == 404

        # Lifting twice: the second time is named, not an error page.
        assert (
            await bruno.submit(f"/contacts/{cid}/unblock", {}, page="/settings")
        ).status_code == 303
        twice = await bruno.submit(f"/contacts/{cid}/unblock", {}, page="/settings")
        assert twice.headers["Location"] == "/settings?problem=not_blocked#blocked-title"
        shown = await bruno.get("/settings?problem=not_blocked")
        assert re.search(r'role="alert">[^<]+</p>', shown.text)
