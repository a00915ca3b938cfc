"""Activities arriving out of order, twice, or from a peer that ignores consent.

Cholet is stopped after the setup; the test then speaks as Cholet with Cholet's own
key (what a faulty or hostile peer node could send), straight to Oldenburg's inbox.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from federation.proofs import create_proof
from node.contacts import consent as contacts
from node.contacts import messages
from node.contacts import views as contact_views
from node.contacts._notifications import NEW_REQUEST, queue_pending
from node.contacts.consent import ContactError, is_mutual
from node.models import OutboxActivity, RemoteProfile, Resident, utcnow
from node.runtime import appkeys
from support.contacts import (
    ANNA,
    BRUNO_NAME,
    act,
    ask,
    contacts_of,
    hand_made,
    messages_of,
    moment,
    post_as,
    the_contact,
    twin_cities,
    until_contact,
)
from support.federation import wait_for
from support.mail import mail_settled
from support.population import remote_vectors
from support.web import mails_to

NO_CONSENT = "no mutual consent for this pair"


def follow(cities, follow_id: str, actor: str, target: str) -> dict:
    return {"id": follow_id, "type": "Follow", "actor": actor, "object": target}


def note(cities, body: str, note_id: str | None = None) -> dict:
    return hand_made(
        cities.cholet,
        "Create",
        cities.bruno_actor,
        {
            "id": note_id or f"{cities.cholet.url}/notes/{body.replace(' ', '-')}",
            "type": "Note",
            "attributedTo": cities.bruno_actor,
            "to": [cities.anna_actor],
            "mediaType": "text/plain",
            "content": body,
        },
        cities.anna_actor,
    )


def reveal(cities, name: str) -> dict:
    person = {"id": cities.bruno_actor, "type": "Person", "name": name}
    return hand_made(cities.cholet, "Update", cities.bruno_actor, person, cities.anna_actor)


async def queued(node, kind: str) -> list[dict]:
    async with node.app[appkeys.DATABASE].read() as session:
        rows = await session.scalars(
            select(OutboxActivity).where(OutboxActivity.activity_type == kind)
        )
        return [row.payload for row in rows.all()]


async def test_an_accept_before_the_request_counts_once_the_request_is_made(
    tmp_path: Path,
) -> None:
    async with twin_cities(tmp_path, pages=False) as cities:
        await cities.cholet.stop()
        early = follow(
            cities, f"{cities.base}/activities/not-sent-yet", cities.anna_actor, cities.bruno_actor
        )
        accept = hand_made(cities.cholet, "Accept", cities.bruno_actor, early, cities.anna_actor)
        assert (await post_as(cities.cholet, cities.oldenburg, accept)).status_code == 202
        kept = await the_contact(cities.oldenburg, cities.anna)
        assert kept.their_consent == "yes" and not is_mutual(kept)
        async with cities.oldenburg.app[appkeys.DATABASE].read() as session:
            resident = await session.get(Resident, cities.anna)
            # Their yes alone is not a request waiting for an answer.
            assert await contact_views.open_request_count(session, resident) == 0
        assert not [
            p for p in await queued(cities.oldenburg, "Update") if p["object"]["type"] == "Person"
        ]

        await ask(cities.oldenburg, cities.anna, cities.bruno_actor)
        mutual = await the_contact(cities.oldenburg, cities.anna)
        assert is_mutual(mutual)
        reveals = [
            p for p in await queued(cities.oldenburg, "Update") if p["object"]["type"] == "Person"
        ]
        assert len(reveals) == 1 and reveals[0]["to"] == [cities.bruno_actor]


async def test_an_undo_before_its_follow_keeps_the_request_withdrawn(tmp_path: Path) -> None:
    async with twin_cities(tmp_path, pages=False) as cities:
        await cities.cholet.stop()
        follow_id = f"{cities.cholet.url}/activities/late-follow"
        request = hand_made(
            cities.cholet,
            "Follow",
            cities.bruno_actor,
            cities.anna_actor,
            cities.anna_actor,
            published=moment(-5),
        )
        request["id"] = follow_id
        undo = hand_made(
            cities.cholet,
            "Undo",
            cities.bruno_actor,
            follow(cities, follow_id, cities.bruno_actor, cities.anna_actor),
            cities.anna_actor,
            published=moment(-1),
        )
        assert (await post_as(cities.cholet, cities.oldenburg, undo)).status_code == 202
        assert (await post_as(cities.cholet, cities.oldenburg, request)).status_code == 202
        assert (await post_as(cities.cholet, cities.oldenburg, request)).status_code == 202
        contact = await the_contact(cities.oldenburg, cities.anna)
        assert contact.their_consent == "withdrawn"
        assert contacts.standing(contact) == "withdrawn"
        try:
            await act(
                cities.oldenburg, contacts.answer_request, cities.anna, contact.id, accept=True
            )
        except ContactError as exc:
            assert exc.code == "not_requested"
        else:
            raise AssertionError("a withdrawn request could be accepted")


async def test_messages_and_reveals_need_mutual_consent_at_the_receiver(tmp_path: Path) -> None:
    async with twin_cities(tmp_path, pages=False) as cities:
        await cities.cholet.stop()
        sneaky = await post_as(cities.cholet, cities.oldenburg, note(cities, "hello stranger"))
        assert sneaky.status_code == 403 and NO_CONSENT in sneaky.text
        early = await post_as(cities.cholet, cities.oldenburg, reveal(cities, "Bruno Early"))
        assert early.status_code == 403 and NO_CONSENT in early.text

        request = hand_made(
            cities.cholet, "Follow", cities.bruno_actor, cities.anna_actor, cities.anna_actor
        )
        assert (await post_as(cities.cholet, cities.oldenburg, request)).status_code == 202
        pending = await the_contact(cities.oldenburg, cities.anna)
        assert (
            await post_as(cities.cholet, cities.oldenburg, note(cities, "before the yes"))
        ).status_code == 403
        # The sending side refuses as well: Anna has not said yes.
        try:
            await act(cities.oldenburg, messages.send_message, cities.anna, pending.id, "hi")
        except ContactError as exc:
            assert exc.code == "not_mutual"
        else:
            raise AssertionError("Oldenburg sent without consent")
        assert await queued(cities.oldenburg, "Create") == []

        await act(cities.oldenburg, contacts.answer_request, cities.anna, pending.id, accept=True)
        named = await post_as(cities.cholet, cities.oldenburg, reveal(cities, "Bruno Named"))
        assert named.status_code == 202
        assert (await the_contact(cities.oldenburg, cities.anna)).their_name == "Bruno Named"

        block = hand_made(
            cities.cholet, "Block", cities.bruno_actor, cities.anna_actor, cities.anna_actor
        )
        assert (await post_as(cities.cholet, cities.oldenburg, block)).status_code == 202
        after = await post_as(cities.cholet, cities.oldenburg, note(cities, "after the block"))
        assert after.status_code == 403
        assert await messages_of(cities.oldenburg, pending.id) == []


async def test_a_message_delivered_twice_is_shown_and_mailed_once(tmp_path: Path) -> None:
    async with twin_cities(tmp_path) as cities:
        await cities.cholet.stop()
        request = hand_made(
            cities.cholet, "Follow", cities.bruno_actor, cities.anna_actor, cities.anna_actor
        )
        assert (await post_as(cities.cholet, cities.oldenburg, request)).status_code == 202
        contact = await the_contact(cities.oldenburg, cities.anna)
        await act(cities.oldenburg, contacts.answer_request, cities.anna, contact.id, accept=True)

        first = note(cities, "Bonjour Anna", f"{cities.cholet.url}/notes/one")
        for _ in range(2):
            answer = await post_as(cities.cholet, cities.oldenburg, first)
            assert answer.status_code == 202
        again = note(cities, "Bonjour Anna", f"{cities.cholet.url}/notes/one")
        assert again["id"] != first["id"]  # the same Note in a new Create: still once
        assert (await post_as(cities.cholet, cities.oldenburg, again)).status_code == 202

        stored = await messages_of(cities.oldenburg, contact.id)
        assert [m.body for m in stored] == ["Bonjour Anna"]

        app = cities.oldenburg.app
        asked = app[appkeys.CATALOGUES].get("de").gettext(NEW_REQUEST.subject) % {
            "portal": cities.oldenburg.config.branding.portal_name
        }

        def notifications() -> list:
            """The mails about messages (Bruno's request has its own)."""
            return [m for m in mails_to(cities.oldenburg, ANNA) if m["Subject"] != asked]

        async def mailed() -> bool:
            return len(notifications()) >= 1

        await wait_for(mailed, what="notification mail")
        mail = notifications()[0]
        assert "Bonjour Anna" not in mail.get_body(preferencelist=("plain",)).get_content()
        second = note(cities, "Encore moi", f"{cities.cholet.url}/notes/two")
        assert (await post_as(cities.cholet, cities.oldenburg, second)).status_code == 202

        # Within the hour after the first mail the second message waits; then one
        # mail tells of it.
        await queue_pending(app[appkeys.DATABASE], app[appkeys.MAILER])
        await mail_settled(cities.oldenburg)
        assert len(notifications()) == 1
        later = utcnow() + timedelta(hours=1, minutes=1)
        await queue_pending(app[appkeys.DATABASE], app[appkeys.MAILER], now=later)
        await mail_settled(cities.oldenburg)
        assert len(notifications()) == 2

        async with cities.oldenburg.app[appkeys.DATABASE].write() as session:
            resident = await session.get(Resident, cities.anna)
            resident.notify_messages = False
        third = note(cities, "Et encore", f"{cities.cholet.url}/notes/three")
        assert (await post_as(cities.cholet, cities.oldenburg, third)).status_code == 202
        assert len(await messages_of(cities.oldenburg, contact.id)) == 3
        rows = await messages_of(cities.oldenburg, contact.id)
        assert [m.notify for m in rows] == ["sent", "sent", "none"]
        much_later = later + timedelta(hours=2)
        await queue_pending(app[appkeys.DATABASE], app[appkeys.MAILER], now=much_later)
        await mail_settled(cities.oldenburg)
        assert len(notifications()) == 2
        assert len(await contacts_of(cities.oldenburg, cities.anna)) == 1


# Vector activities about a resident in contact: only deleting the actor ends the pair.


def signed_vector_activity(cities, kind: str, target: dict) -> dict:
    """A vector activity as Cholet's node sends it: with Cholet's integrity proof."""
    document = hand_made(cities.cholet, kind, cities.bruno_actor, target, cities.oldenburg.url)
    document["to"] = [cities.oldenburg.config.actor_url]
    key_id = f"{cities.cholet.config.actor_url}#ed25519-key"
    return create_proof(document, cities.cholet.keys.ed25519, key_id)


def profile_of_bruno(cities, sequence: int, interests: list[str]) -> dict:
    return {
        "type": "InterestProfile",
        "id": cities.bruno_actor,
        "kind": "person",
        "interests": interests,
        "occupation": "23",
        "languages": {"fr": "native", "de": "fluent"},
        "learning": [],
        "ageBand": "30-39",
        "childrenAgeBands": [],
        "updated": "2026-12-01T00:00:00Z",
        "sequence": sequence,
    }


def withdrawal_of_bruno(cities, sequence: int, former: str) -> dict:
    return {
        "type": "Tombstone",
        "id": cities.bruno_actor,
        "formerType": former,
        "deleted": "2026-12-01T00:00:00Z",
        "sequence": sequence,
    }


async def mutual_then_cholet_down(cities) -> tuple[int, int]:
    """Anna and Bruno in contact; Cholet stopped. Returns Anna's contact id and the
    sequence of Bruno's vector as Oldenburg holds it."""
    await ask(cities.oldenburg, cities.anna, cities.bruno_actor)
    incoming = await until_contact(
        cities.cholet, cities.bruno, lambda c: c.their_consent == "yes", "request"
    )
    await act(cities.cholet, contacts.answer_request, cities.bruno, incoming.id, accept=True)
    mine = await until_contact(
        cities.oldenburg, cities.anna, lambda c: c.their_name == BRUNO_NAME, "mutual"
    )
    await cities.cholet.stop()
    async with cities.oldenburg.app[appkeys.DATABASE].read() as session:
        sequence = await session.scalar(
            select(RemoteProfile.sequence).where(RemoteProfile.actor_url == cities.bruno_actor)
        )
    assert sequence is not None and sequence > 0
    return mine.id, sequence


async def test_a_paused_profile_keeps_its_contact_and_a_late_update_stays_out(
    tmp_path: Path,
) -> None:
    async with twin_cities(tmp_path, pages=False) as cities:
        contact_id, sequence = await mutual_then_cholet_down(cities)
        late = signed_vector_activity(
            cities, "Update", profile_of_bruno(cities, sequence + 1, ["games.chess"])
        )
        paused = signed_vector_activity(
            cities, "Delete", withdrawal_of_bruno(cities, sequence + 2, "InterestProfile")
        )
        # The pause overtakes the edit made before it.
        assert (await post_as(cities.cholet, cities.oldenburg, paused)).status_code == 202
        assert (await post_as(cities.cholet, cities.oldenburg, late)).status_code == 202
        assert cities.bruno_actor not in await remote_vectors(cities.oldenburg)
        kept = await the_contact(cities.oldenburg, cities.anna)
        assert is_mutual(kept) and kept.their_name == BRUNO_NAME
        written = await post_as(cities.cholet, cities.oldenburg, note(cities, "still here"))
        assert written.status_code == 202
        assert [m.body for m in await messages_of(cities.oldenburg, contact_id)] == ["still here"]
        await act(cities.oldenburg, messages.send_message, cities.anna, contact_id, "Schön!")

        resumed = signed_vector_activity(
            cities, "Update", profile_of_bruno(cities, sequence + 3, ["sport.rowing"])
        )
        assert (await post_as(cities.cholet, cities.oldenburg, resumed)).status_code == 202
        held = await remote_vectors(cities.oldenburg)
        assert held[cities.bruno_actor]["interests"] == ["sport.rowing"]


async def test_an_update_after_the_account_deletion_brings_nothing_back(tmp_path: Path) -> None:
    async with twin_cities(tmp_path, pages=False) as cities:
        contact_id, sequence = await mutual_then_cholet_down(cities)
        written = await post_as(cities.cholet, cities.oldenburg, note(cities, "goodbye"))
        assert written.status_code == 202
        gone = signed_vector_activity(
            cities, "Delete", withdrawal_of_bruno(cities, sequence + 1, "Person")
        )
        assert (await post_as(cities.cholet, cities.oldenburg, gone)).status_code == 202
        ended = await the_contact(cities.oldenburg, cities.anna)
        assert ended.remote_deleted_at is not None and ended.their_name is None
        assert await messages_of(cities.oldenburg, contact_id) == []
        for later in (sequence + 2, sequence + 100):
            update = signed_vector_activity(
                cities, "Update", profile_of_bruno(cities, later, ["sport.rowing"])
            )
            assert (await post_as(cities.cholet, cities.oldenburg, update)).status_code == 202
        assert cities.bruno_actor not in await remote_vectors(cities.oldenburg)
        refused = await post_as(cities.cholet, cities.oldenburg, note(cities, "I am back"))
        assert refused.status_code == 403
        assert contacts.standing(await the_contact(cities.oldenburg, cities.anna)) == "deleted"
