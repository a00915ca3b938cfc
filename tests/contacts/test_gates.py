"""The matching gates hold for contact requests on both nodes, not only in the
suggestion lists: a family cannot ask a school class by posting its actor URL, and a
faulty peer cannot make a resident here receive a request from a profile that fails
the kind or language gate.

Oldenburg holds Anna (person, de/fr), a family and Dora (person, German only); Cholet
holds Bruno (person, fr/de), a school class and Claude (person, French only). For the
faulty peer, Cholet is stopped and the test speaks with Cholet's own key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from node.accounts import passwords
from node.contacts import consent as contacts
from node.contacts.consent import ContactError
from node.models import Contact, OutboxActivity, Resident, utcnow
from node.profiles import profiles
from node.profiles.profiles import ProfileData
from node.runtime import appkeys
from node.vectors.appkeys import PUBLISHER
from support.contacts import (
    Cities,
    act,
    ask,
    contacts_of,
    hand_made,
    post_as,
    the_contact,
    twin_cities,
)
from support.federation import inbox_rows, wait_for
from support.nodes import RunningNode, wake
from support.population import pseudonym_urls, remote_vectors
from support.web import PASSWORD, Visitor

FAMILY = "familie@oldenburg.example"


@dataclass
class Gated:
    cities: Cities
    family: int
    dora: int
    family_actor: str  # the family's pseudonym towards Cholet
    dora_actor: str
    school_class_actor: str  # the class's pseudonym towards Oldenburg
    claude_actor: str


async def add_resident(node: RunningNode, email: str, kind: str, data: ProfileData) -> int:
    """A confirmed account of ``kind`` (password ``PASSWORD``) with a saved profile."""
    assert node.app is not None
    async with node.app[appkeys.DATABASE].write() as session:
        resident = Resident(
            email=email,
            password_hash=await passwords.hash_password(PASSWORD),
            display_name=email.split("@")[0].title(),
            kind=kind,
            language=node.config.node.default_language,
            email_verified_at=utcnow(),
        )
        session.add(resident)
        await session.flush()
        await profiles.save_profile(session, resident, data, node.app[PUBLISHER])
        return resident.id


async def pseudonym_towards(node: RunningNode, resident: int, peer: RunningNode) -> str:
    return (await pseudonym_urls(node, resident))[peer.config.actor_url]


@asynccontextmanager
async def gated_cities(tmp_path: Path, *, pages: bool) -> AsyncIterator[Gated]:
    async with twin_cities(tmp_path, pages=pages) as cities:
        oldenburg, cholet = cities.oldenburg, cities.cholet
        cycling = ("sport.cycling", "music_making.choir")
        family = await add_resident(
            oldenburg,
            FAMILY,
            "family",
            ProfileData(
                interests=cycling,
                languages={"de": "native", "fr": "B2"},
                children_age_bands=("6-11",),
            ),
        )
        dora = await add_resident(
            oldenburg,
            "dora@oldenburg.example",
            "person",
            ProfileData(interests=cycling, languages={"de": "native"}, age_band="30-39"),
        )
        school_class = await add_resident(
            cholet,
            "classe@cholet.example",
            "school_class",
            ProfileData(
                interests=cycling, languages={"fr": "native", "de": "B1"}, age_band="grades-5-6"
            ),
        )
        claude = await add_resident(
            cholet,
            "claude@cholet.example",
            "person",
            ProfileData(interests=cycling, languages={"fr": "native"}, age_band="30-39"),
        )
        gated = Gated(
            cities,
            family,
            dora,
            family_actor=await pseudonym_towards(oldenburg, family, cholet),
            dora_actor=await pseudonym_towards(oldenburg, dora, cholet),
            school_class_actor=await pseudonym_towards(cholet, school_class, oldenburg),
            claude_actor=await pseudonym_towards(cholet, claude, oldenburg),
        )

        async def exchanged() -> bool:
            for node in (oldenburg, cholet):
                assert node.app is not None
                wake(node.app)
            held_there = await remote_vectors(cholet)
            held_here = await remote_vectors(oldenburg)
            return {gated.family_actor, gated.dora_actor} <= set(held_there) and {
                gated.school_class_actor,
                gated.claude_actor,
            } <= set(held_here)

        await wait_for(exchanged, what="the new vectors exchanged")
        yield gated


async def queued_follows(node: RunningNode) -> list[dict]:
    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as session:
        rows = await session.scalars(
            select(OutboxActivity).where(OutboxActivity.activity_type == "Follow")
        )
        return [row.payload for row in rows.all()]


async def test_the_sending_node_refuses_a_request_that_fails_a_gate(tmp_path: Path) -> None:
    async with (
        gated_cities(tmp_path, pages=True) as gated,
        Visitor(gated.cities.oldenburg) as family,
    ):
        oldenburg = gated.cities.oldenburg
        assert (await family.login(FAMILY)).status_code == 303
        # The class's actor URL, taken from elsewhere and posted by hand.
        asked = await family.submit(
            "/contacts/request", {"actor": gated.school_class_actor}, page="/contacts/requests"
        )
        assert asked.status_code == 303
        assert asked.headers["Location"] == "/contacts/requests?problem=not_a_match"
        shown = await family.get(asked.headers["Location"])
        assert "mit einem Profil Kontakt aufnehmen, das zu Ihrem passt" in shown.text
        assert await contacts_of(oldenburg, gated.family) == []
        assert await queued_follows(oldenburg) == []

        # Two persons without a language to talk in: refused the same way.
        try:
            await ask(oldenburg, gated.dora, gated.claude_actor)
        except ContactError as exc:
            assert exc.code == "not_a_match"
        else:
            raise AssertionError("Oldenburg queued a request that fails the language gate")
        assert await contacts_of(oldenburg, gated.dora) == []
        assert await queued_follows(oldenburg) == []

        # A pair that passes the gates is asked as before.
        cities = gated.cities
        await ask(oldenburg, cities.anna, cities.bruno_actor)
        assert [f["object"] for f in await queued_follows(oldenburg)] == [cities.bruno_actor]


async def test_the_configured_kind_gates_decide_on_the_sending_node(tmp_path: Path) -> None:
    async with gated_cities(tmp_path, pages=False) as gated:
        oldenburg = gated.cities.oldenburg
        open_gates = {
            "family": frozenset({"family", "school_class"}),
            "school_class": frozenset({"family", "school_class"}),
        }
        await act(
            oldenburg,
            contacts.request_contact,
            gated.family,
            gated.school_class_actor,
            kind_gates=open_gates,
        )
        assert [f["object"] for f in await queued_follows(oldenburg)] == [gated.school_class_actor]


def _stored(rows: list, activity_id: str) -> bool:
    return any(row.activity_id == activity_id for row in rows)


async def test_the_receiving_node_refuses_a_follow_that_fails_a_gate(tmp_path: Path) -> None:
    async with gated_cities(tmp_path, pages=False) as gated:
        cities = gated.cities
        oldenburg, cholet = cities.oldenburg, cities.cholet
        await cholet.stop()

        # A school class asking a family: the kind gate.
        kinds = hand_made(
            cholet, "Follow", gated.school_class_actor, gated.family_actor, gated.family_actor
        )
        refused = await post_as(cholet, oldenburg, kinds)
        assert refused.status_code == 403 and "kind gate" in refused.text
        assert await contacts_of(oldenburg, gated.family) == []
        assert not _stored(await inbox_rows(oldenburg), kinds["id"])

        # French only asking German only: the language gate.
        speech = hand_made(cholet, "Follow", gated.claude_actor, gated.dora_actor, gated.dora_actor)
        refused = await post_as(cholet, oldenburg, speech)
        assert refused.status_code == 403 and "language gate" in refused.text
        assert await contacts_of(oldenburg, gated.dora) == []
        assert not _stored(await inbox_rows(oldenburg), speech["id"])

        # A sender whose profile Oldenburg does not hold cannot be checked.
        stranger = f"{cholet.url}/p/{'e' * 64}"
        unknown = hand_made(cholet, "Follow", stranger, cities.anna_actor, cities.anna_actor)
        refused = await post_as(cholet, oldenburg, unknown)
        assert (
            refused.status_code == 403 and "no profile to check the gates against" in refused.text
        )
        assert not _stored(await inbox_rows(oldenburg), unknown["id"])

        # Two persons with a common language: taken.
        fitting = hand_made(
            cholet, "Follow", cities.bruno_actor, cities.anna_actor, cities.anna_actor
        )
        assert (await post_as(cholet, oldenburg, fitting)).status_code == 202

        async def arrived() -> bool:
            assert oldenburg.app is not None
            wake(oldenburg.app)
            found = await contacts_of(oldenburg, cities.anna)
            return len(found) == 1 and found[0].their_consent == "yes"

        await wait_for(arrived, what="Bruno's request at Oldenburg")
        contact: Contact = await the_contact(oldenburg, cities.anna)
        assert contact.remote_actor == cities.bruno_actor
