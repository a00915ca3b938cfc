"""Leaving and not leaving. An account deleted while the partner city is down: the
``Delete`` of the actor waits in the outbox, and when the peer is back it drops the
pseudonym's vector, what it revealed and the messages it wrote, and the other resident
sees that the account is gone. Pausing or resetting the pseudonym withdraws only the
profile: the contacts and their conversations go on, on both nodes."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import httpx
from sqlalchemy import select

from node.accounts import accounts
from node.contacts import consent as contacts
from node.contacts import messages
from node.contacts.consent import ContactError
from node.models import OutboxActivity, Resident, Tombstone
from node.runtime import appkeys
from node.vectors.appkeys import PUBLISHER
from node.vectors.publication import reset_pseudonym
from support.contacts import (
    ANNA,
    ANNA_NAME,
    BRUNO,
    BRUNO_NAME,
    act,
    add_person,
    ask,
    contacts_of,
    hand_made,
    messages_of,
    post_as,
    the_contact,
    twin_cities,
    until_contact,
)
from support.federation import FAST, wait_for
from support.nodes import node_trio
from support.population import (
    acquainted,
    delivered,
    pseudonym_urls,
    remote_vectors,
    set_paused,
    signed_fetch,
)
from support.web import PASSWORD, Visitor


async def test_deleted_account_reaches_the_peer_when_it_returns(tmp_path: Path) -> None:
    async with twin_cities(tmp_path) as cities:
        await ask(cities.oldenburg, cities.anna, cities.bruno_actor)
        incoming = await until_contact(
            cities.cholet, cities.bruno, lambda c: c.their_consent == "yes", "request"
        )
        await act(cities.cholet, contacts.answer_request, cities.bruno, incoming.id, accept=True)
        mine = await until_contact(
            cities.oldenburg, cities.anna, lambda c: c.their_name == BRUNO_NAME, "mutual"
        )
        await act(cities.oldenburg, messages.send_message, cities.anna, mine.id, "Bis bald!")
        await act(cities.cholet, messages.send_message, cities.bruno, incoming.id, "À bientôt")

        async def both_arrived() -> bool:
            there = await messages_of(cities.cholet, incoming.id)
            here = await messages_of(cities.oldenburg, mine.id)
            return len(there) == 2 and len(here) == 2

        await wait_for(both_arrived, what="messages both ways")

        await cities.cholet.stop()
        async with Visitor(cities.oldenburg) as anna:
            assert (await anna.login(ANNA)).status_code == 303
            gone = await anna.submit(
                "/settings/delete", {"password": PASSWORD, "confirm": "1"}, page="/settings"
            )
            assert gone.status_code == 200
        assert cities.oldenburg.app is not None
        async with cities.oldenburg.app[appkeys.DATABASE].read() as session:
            waiting = (
                await session.scalars(
                    select(OutboxActivity).where(OutboxActivity.state.in_(("pending", "sending")))
                )
            ).all()
        deletes = [row.payload for row in waiting if row.activity_type == "Delete"]
        assert [d["actor"] for d in deletes] == [cities.anna_actor]
        assert deletes[0]["object"]["formerType"] == "Person"

        await cities.cholet.start()
        ended = await until_contact(
            cities.cholet,
            cities.bruno,
            lambda c: c.remote_deleted_at is not None,
            "the Delete applied at Cholet",
        )
        assert ended.their_name is None and ended.their_about is None
        assert contacts.standing(ended) == "deleted"
        left = await messages_of(cities.cholet, ended.id)
        assert [(m.direction, m.body) for m in left] == [("out", "À bientôt")]
        assert cities.anna_actor not in await remote_vectors(cities.cholet)
        try:
            await act(cities.cholet, messages.send_message, cities.bruno, ended.id, "Allô ?")
        except ContactError as exc:
            assert exc.code == "not_mutual"
        else:
            raise AssertionError("wrote to a deleted account")

        async with Visitor(cities.cholet, "fr") as bruno:
            assert (await bruno.login(BRUNO)).status_code == 303
            page = await bruno.get(f"/contacts/{ended.id}")
            assert page.status_code == 200
            assert "Bis bald!" not in page.text and ANNA_NAME not in page.text
            assert "Compte supprimé" in page.text
            listing = await bruno.get("/contacts")
            assert "Compte supprimé" in listing.text


# Pausing and resetting are not leaving: the contacts continue.


async def _mutual_with_messages(cities, oldenburg, cholet) -> tuple[int, int]:
    """Anna and Bruno in mutual contact, one message each way; their contact ids."""
    await ask(oldenburg, cities.anna, cities.bruno_actor)
    incoming = await until_contact(cholet, cities.bruno, lambda c: c.their_consent == "yes", "ask")
    await act(cholet, contacts.answer_request, cities.bruno, incoming.id, accept=True)
    mine = await until_contact(oldenburg, cities.anna, lambda c: c.their_name == BRUNO_NAME, "yes")
    await _exchange(oldenburg, cholet, cities, mine.id, incoming.id, "Hallo", "Salut")
    return mine.id, incoming.id


async def _exchange(oldenburg, cholet, cities, mine: int, theirs: int, here: str, there: str):
    """One message each way, and both arrived (the pair is alive on both nodes)."""
    await act(oldenburg, messages.send_message, cities.anna, mine, here)
    await act(cholet, messages.send_message, cities.bruno, theirs, there)

    async def arrived() -> bool:
        got_there = [m.body for m in await messages_of(cholet, theirs) if m.direction == "in"]
        got_here = [m.body for m in await messages_of(oldenburg, mine) if m.direction == "in"]
        return here in got_there and there in got_here

    await wait_for(arrived, what=f"{here!r} and {there!r} delivered both ways")


async def test_pausing_withdraws_the_profile_but_the_conversation_goes_on(tmp_path: Path) -> None:
    async with twin_cities(tmp_path, pages=False) as cities:
        oldenburg, cholet = cities.oldenburg, cities.cholet
        mine, theirs = await _mutual_with_messages(cities, oldenburg, cholet)

        await set_paused(oldenburg, cities.anna, True)
        await delivered(oldenburg)
        assert cities.anna_actor not in await remote_vectors(cholet)
        sent = [p for p in await _payloads(oldenburg, "Delete")]
        assert [(d["object"]["id"], d["object"]["formerType"]) for d in sent] == [
            (cities.anna_actor, "InterestProfile")
        ]
        # Both sides still see a mutual contact, with the names, and can write.
        there = await the_contact(cholet, cities.bruno)
        assert contacts.standing(there) == "mutual" and there.their_name == ANNA_NAME
        assert contacts.standing(await the_contact(oldenburg, cities.anna)) == "mutual"
        await _exchange(oldenburg, cholet, cities, mine, theirs, "Pause?", "Oui, et alors")

        await set_paused(oldenburg, cities.anna, False)
        await delivered(oldenburg)
        assert cities.anna_actor in await remote_vectors(cholet)  # the same pseudonym again
        assert contacts.standing(await the_contact(cholet, cities.bruno)) == "mutual"


async def test_reset_gives_a_new_unconnected_profile_and_old_contacts_continue(
    tmp_path: Path,
) -> None:
    async with node_trio(tmp_path, overrides=FAST, extensions=[]) as (oldenburg, cholet, taastrup):
        for a, b in ((oldenburg, cholet), (oldenburg, taastrup), (cholet, taastrup)):
            await acquainted(a, b)
        anna = await add_person(oldenburg, ANNA, ANNA_NAME, "", {"de": "native", "fr": "B1"})
        bruno = await add_person(cholet, BRUNO, BRUNO_NAME, "", {"fr": "native", "de": "B1"})
        old = await pseudonym_urls(oldenburg, anna)
        bruno_actor = (await pseudonym_urls(cholet, bruno))[oldenburg.config.actor_url]
        for node in (oldenburg, cholet):
            await delivered(node)
        cities = SimpleNamespace(
            anna=anna, bruno=bruno, anna_actor=old[cholet.config.actor_url], bruno_actor=bruno_actor
        )
        mine, theirs = await _mutual_with_messages(cities, oldenburg, cholet)

        async with oldenburg.app[appkeys.DATABASE].write() as session:
            resident = await session.get(Resident, anna)
            await reset_pseudonym(session, resident, oldenburg.app[PUBLISHER])
        new = await pseudonym_urls(oldenburg, anna)
        await delivered(oldenburg)
        for peer in (cholet, taastrup):
            towards = peer.config.actor_url
            assert new[towards] != old[towards]
            held = await remote_vectors(peer)
            assert old[towards] not in held and new[towards] in held
        assert len(set(new.values()) | set(old.values())) == 4

        # At Cholet the new pseudonym is a stranger: no contact names it.
        [there] = await contacts_of(cholet, bruno)
        assert there.remote_actor == old[cholet.config.actor_url] and contacts.is_mutual(there)
        assert there.their_name == ANNA_NAME
        # Messages still flow both ways, under the old pseudonym.
        await _exchange(oldenburg, cholet, cities, mine, theirs, "Neuer Name", "Toujours là")
        assert (await the_contact(oldenburg, anna)).local_actor == old[cholet.config.actor_url]
        async with httpx.AsyncClient() as client:
            kept = await signed_fetch(client, old[cholet.config.actor_url], cholet)
            assert kept["id"] == old[cholet.config.actor_url]
        # Nobody new can start a contact with the old pseudonym; the new one is open to a
        # profile Oldenburg holds (a new pair must pass the gates on the vectors held).
        stranger = f"{cholet.url}/p/{'e' * 64}"
        for sender, target, status in ((stranger, old, 404), (bruno_actor, new, 202)):
            towards = target[cholet.config.actor_url]
            request = hand_made(cholet, "Follow", sender, towards, towards)
            assert (await post_as(cholet, oldenburg, request)).status_code == status

        # Deleting the account then deletes every pseudonym actor, the old ones too.
        async with oldenburg.app[appkeys.DATABASE].write() as session:
            resident = await session.get(Resident, anna)
            await accounts.delete_account(session, resident, oldenburg.app[PUBLISHER])
        await delivered(oldenburg)
        ended = await until_contact(
            cholet, bruno, lambda c: c.remote_deleted_at is not None, "the deletion at Cholet"
        )
        assert ended.their_name is None
        for peer in (cholet, taastrup):
            towards = peer.config.actor_url
            async with peer.app[appkeys.DATABASE].read() as session:
                for actor in (old[towards], new[towards]):
                    tombstone = await session.get(Tombstone, actor)
                    assert tombstone is not None and tombstone.actor_deleted, actor
            assert not set(await remote_vectors(peer)) & {old[towards], new[towards]}


async def _payloads(node, kind: str) -> list[dict]:
    async with node.app[appkeys.DATABASE].read() as session:
        rows = await session.scalars(
            select(OutboxActivity)
            .where(OutboxActivity.activity_type == kind)
            .order_by(OutboxActivity.id)
        )
        return [row.payload for row in rows.all()]
