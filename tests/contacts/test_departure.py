"""An account deleted while the partner city is down: the ``Delete`` waits in the
outbox, and when the peer is back it drops the pseudonym's vector, what it revealed and
the messages it wrote, and the other resident sees that the account is gone."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from node.contacts import consent as contacts
from node.contacts import messages
from node.contacts.consent import ContactError
from node.models import OutboxActivity
from node.runtime import appkeys
from support.contacts import (
    ANNA,
    ANNA_NAME,
    BRUNO,
    BRUNO_NAME,
    act,
    messages_of,
    twin_cities,
    until_contact,
)
from support.federation import wait_for
from support.population import remote_vectors
from support.web import PASSWORD, Visitor


async def test_deleted_account_reaches_the_peer_when_it_returns(tmp_path: Path) -> None:
    async with twin_cities(tmp_path) as cities:
        await act(cities.oldenburg, contacts.request_contact, cities.anna, cities.bruno_actor)
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
