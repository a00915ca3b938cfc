"""Find people: Anna in Oldenburg looks through Cholet's anonymous profiles herself.

Cholet holds Bruno, twenty-four varied French residents, a few residents made for the
filters, and three profiles Anna may never see: a school class (kind gate), a club
(kind gate) and an Italian speaker she shares no language with (language gate). Every
expectation is computed from the vectors Oldenburg holds, with the reference score of
``matching.score`` and the gates of ``matching.gates``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

from sqlalchemy import select

from matching.gates import passes_gates
from matching.profile import InterestProfile
from matching.score import score_units
from node.matches.appkeys import MATCHING
from node.models import OutboxActivity, PublishedVector, RemoteProfile
from node.profiles.profiles import ProfileData
from node.runtime import appkeys
from node.vectors.stored import stored_profile
from support.contacts import ANNA, Cities, add_account, contacts_of, twin_cities, until_contact
from support.federation import wait_for
from support.nodes import RunningNode, wake
from support.population import (
    add_resident,
    peer_id,
    person,
    pseudonym_urls,
    recompute,
    remote_vectors,
    set_paused,
    varied_profiles,
)
from support.web import Visitor

TARGET = re.compile(r'name="actor" value="([^"]+)"')
NEXT = re.compile(r'<a href="([^"]+)" rel="next">')


@dataclass
class People:
    cities: Cities
    hiker: str  # actor URLs as Oldenburg holds them
    chess: str
    retired_teacher: str
    school_class: str
    club: str
    italian: str
    extra: int  # a Cholet resident id, for the request that travels


@asynccontextmanager
async def people_cities(tmp_path: Path) -> AsyncIterator[People]:
    async with twin_cities(tmp_path) as cities:
        cholet = cities.cholet
        named: dict[str, int] = {}
        named["hiker"] = await add_resident(
            cholet,
            person(
                ["outdoors.hiking"],
                languages={"fr": "native", "de": "B2"},
                learning=["en"],
                age_band="50-59",
                occupation="51",
            ),
        )
        named["chess"] = await add_resident(
            cholet,
            person(
                ["games.chess", "sport.running"],
                languages={"fr": "native", "en": "C1"},
                age_band="20-29",
                occupation="71",
            ),
        )
        named["retired_teacher"] = await add_resident(
            cholet,
            person(
                ["music_making.choir", "literature.novels"],
                languages={"fr": "native", "de": "A2"},
                learning=["de"],
                age_band="60-69",
                occupation=None,
            ),
        )
        named["school_class"] = await add_resident(
            cholet,
            ProfileData(
                interests=("sport.cycling", "music_making.choir"),
                languages={"fr": "native", "de": "B1"},
                age_band="grades-5-6",
            ),
            kind="school_class",
        )
        named["club"] = await add_resident(
            cholet,
            ProfileData(
                interests=("sport.cycling", "music_making.choir"),
                languages={"fr": "native", "de": "C1"},
            ),
            kind="club",
        )
        named["italian"] = await add_resident(
            cholet,
            person(["sport.cycling", "music_making.choir"], languages={"it": "native", "en": "B2"}),
        )
        extra = 0
        for profile in varied_profiles(24, seed=7, native="fr", other="de"):
            extra = await add_resident(cholet, profile, language="fr")
        actors = {
            name: (await pseudonym_urls(cholet, rid))[cities.oldenburg.config.actor_url]
            for name, rid in named.items()
        }

        async def arrived() -> bool:
            for node in (cities.oldenburg, cholet):
                assert node.app is not None
                wake(node.app)
            held = await remote_vectors(cities.oldenburg)
            return len(held) == 1 + len(named) + 24

        await wait_for(arrived, within=120, what="Cholet's profiles at Oldenburg")
        await recompute(cities.oldenburg)
        yield People(cities, extra=extra, **actors)


async def anna_and_cholet(node: RunningNode, anna: int) -> tuple[InterestProfile, list[Any]]:
    """Anna's vector as published and Cholet's vectors as held, each as a profile."""
    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as session:
        published = await session.get(PublishedVector, anna)
        assert published is not None
        rows = (await session.execute(select(RemoteProfile.actor_url, RemoteProfile.vector))).all()
    viewer = stored_profile(published.vector, "urn:test:anna")
    return viewer, [stored_profile(vector, actor) for actor, vector in rows]


async def expected(
    people: People, keep: Callable[[InterestProfile], bool] = lambda _: True
) -> list[str]:
    """Cholet's profiles that pass Anna's gates and ``keep``, best reference score first."""
    node, anna = people.cities.oldenburg, people.cities.anna
    assert node.app is not None
    state = node.app[MATCHING]
    weights = state.peers[await peer_id(node, people.cities.cholet)].weights
    viewer, others = await anna_and_cholet(node, anna)
    gates = state.settings.kind_gates
    fitting = [o for o in others if passes_gates(viewer, o, gates) and keep(o)]
    return [
        o.id for o in sorted(fitting, key=lambda o: (-score_units(viewer, o, weights, gates), o.id))
    ]


async def listed(visitor: Visitor, address: str) -> list[str]:
    """Every profile the list offers for ``address``, following "next page" links."""
    found: list[str] = []
    pages = 0
    while address:
        page = await visitor.get(address)
        assert page.status_code == 200, page.text
        shown = TARGET.findall(page.text)
        assert len(shown) <= 20
        found += [unescape(actor) for actor in shown]
        link = NEXT.search(page.text)
        address = unescape(link.group(1)) if link else ""
        pages += 1
        assert pages < 10
    return found


async def test_the_list_holds_who_passes_the_gates_ranked_and_twenty_to_a_page(
    tmp_path: Path,
) -> None:
    async with people_cities(tmp_path) as people, Visitor(people.cities.oldenburg) as anna:
        assert (await anna.login(ANNA)).status_code == 303

        dashboard = await anna.get("/dashboard")
        assert 'href="/people"' in dashboard.text

        first = await anna.get("/people")
        assert first.status_code == 200
        assert first.headers["Content-Security-Policy"]
        assert len(TARGET.findall(first.text)) == 20
        assert "Page 1 of 2" in first.text or "Seite 1 von 2" in first.text
        assert '<a href="/people?page=2" rel="next">' in first.text
        # The reason, in Anna's language, as on the twin page.
        assert "beide: Chor, Radfahren" in first.text

        everyone = await listed(anna, "/people")
        ranking = await expected(people)
        assert everyone == ranking
        assert len(everyone) == 1 + 3 + 24
        assert people.cities.bruno_actor in everyone
        for gated in (people.school_class, people.club, people.italian):
            assert gated not in everyone

        second = await anna.get("/people?page=2")
        assert len(TARGET.findall(second.text)) == 8
        assert '<a href="/people" rel="prev">' in second.text
        # A page past the end shows the last one.
        assert TARGET.findall((await anna.get("/people?page=99")).text) == TARGET.findall(
            second.text
        )

        # The card shows the score as the suggestions do: Bruno fits best.
        assert everyone[0] == people.cities.bruno_actor


async def test_each_filter_narrows_the_list_and_bad_values_are_left_out(tmp_path: Path) -> None:
    async with people_cities(tmp_path) as people, Visitor(people.cities.oldenburg) as anna:
        assert (await anna.login(ANNA)).status_code == 303

        async def check(query: str, keep: Callable[[InterestProfile], bool]) -> list[str]:
            shown = await listed(anna, "/people?" + query)
            assert shown == await expected(people, keep), query
            return shown

        hikers = await check("interest=outdoors.hiking", lambda o: "outdoors.hiking" in o.interests)
        assert people.hiker in hikers
        either = await check(
            "interest=games.chess&interest=outdoors.hiking",
            lambda o: bool({"games.chess", "outdoors.hiking"} & set(o.interests)),
        )
        assert {people.hiker, people.chess} <= set(either)
        sport = await check(
            "interest=sport", lambda o: any(c.split(".")[0] == "sport" for c in o.interests)
        )
        assert people.chess in sport and people.hiker not in sport
        english = await check("speaks=en", lambda o: "en" in o.languages)
        assert people.chess in english and people.hiker not in english
        learners = await check("learns=de", lambda o: "de" in o.learning)
        assert people.retired_teacher in learners
        sixties = await check("age=60-69", lambda o: o.age_band == "60-69")
        assert people.retired_teacher in sixties
        services = await check(
            "occupation=5", lambda o: bool(o.occupation and o.occupation.startswith("5"))
        )
        assert people.hiker in services
        combined = await check(
            "interest=outdoors.hiking&speaks=de&age=50-59&occupation=5",
            lambda o: (
                "outdoors.hiking" in o.interests
                and "de" in o.languages
                and o.age_band == "50-59"
                and (o.occupation or "").startswith("5")
            ),
        )
        assert combined == [people.hiker]
        # A filter is a plain link: the form shows what it holds.
        page = await anna.get("/people?interest=outdoors.hiking&speaks=de")
        assert '<option value="outdoors.hiking" selected>' in page.text
        assert '<option value="de" selected>' in page.text
        # Nothing fits: said so, no cards.
        nobody = await anna.get("/people?interest=outdoors.hiking&age=grades-1-4")
        assert nobody.status_code == 200 and not TARGET.findall(nobody.text)
        assert "Zu diesen Filtern passt kein Profil" in nobody.text

        # Values that are not in the lists are left out, and the page says so.
        everyone = await expected(people)
        for query in (
            "interest=religion.secret",
            "speaks=xx",
            "learns=%00",
            "age=99-100",
            "occupation=77",
            "interest=" + "a" * 5000,
        ):
            answer = await anna.get("/people?" + query)
            assert answer.status_code == 200, query
            assert "Einige Filterwerte wurden nicht erkannt" in answer.text
            assert TARGET.findall(answer.text) == everyone[:20]
        for query in ("page=abc", "page=%C2%B2", "page=-1", "page=99999999999999", "city=x"):
            answer = await anna.get("/people?" + query)
            assert answer.status_code == 200, query
            assert TARGET.findall(answer.text) == everyone[:20], query
        mixed = await anna.get("/people?interest=outdoors.hiking&interest=nope&speaks=de")
        assert "Einige Filterwerte wurden nicht erkannt" in mixed.text
        assert TARGET.findall(mixed.text) == await expected(
            people, lambda o: "outdoors.hiking" in o.interests and "de" in o.languages
        )


async def test_a_request_from_the_list_is_taken_and_a_gated_profile_cannot_be_asked(
    tmp_path: Path,
) -> None:
    async with people_cities(tmp_path) as people, Visitor(people.cities.oldenburg) as anna:
        cities = people.cities
        oldenburg, cholet = cities.oldenburg, cities.cholet
        assert (await anna.login(ANNA)).status_code == 303
        everyone = await listed(anna, "/people")
        # Someone far below Anna's ten suggestions, from the second page.
        far = everyone[-1]
        assert everyone.index(far) >= 20
        asked = await anna.submit("/contacts/request", {"actor": far}, page="/people?page=2")
        assert asked.status_code == 303
        assert asked.headers["Location"] == "/contacts/requests?done=asked"
        contact = await until_contact(
            oldenburg, cities.anna, lambda c: c.my_consent == "yes", "Anna's request"
        )
        assert contact.remote_actor == far
        # Cholet, checking the gates on its own copy, takes the request too.
        assert cholet.app is not None
        cholet_ids = {
            actor: rid
            for rid in range(1, people.extra + 1)
            for actor in (await pseudonym_urls(cholet, rid)).values()
        }
        asked_of = cholet_ids[far]

        async def arrived() -> bool:
            assert oldenburg.app is not None
            wake(oldenburg.app)
            found = await contacts_of(cholet, asked_of)
            return len(found) == 1 and found[0].their_consent == "yes"

        await wait_for(arrived, within=90, what="the request at Cholet")
        taken = (await contacts_of(cholet, asked_of))[0]
        assert taken.remote_actor == cities.anna_actor
        # The list now shows where the pair stands instead of the button.
        assert far not in TARGET.findall((await anna.get("/people?page=2")).text)

        # Posting the URL of a profile that fails a gate is refused before anything leaves.
        for gated in (people.school_class, people.italian):
            refused = await anna.submit("/contacts/request", {"actor": gated}, page="/people")
            assert refused.headers["Location"] == "/contacts/requests?problem=not_a_match"
        assert [c.remote_actor for c in await contacts_of(oldenburg, cities.anna)] == [far]
        assert oldenburg.app is not None
        async with oldenburg.app[appkeys.DATABASE].read() as session:
            follows = (
                await session.scalars(
                    select(OutboxActivity.payload).where(OutboxActivity.activity_type == "Follow")
                )
            ).all()
        assert [f["object"] for f in follows] == [far]


async def test_paused_and_incomplete_residents_are_told_why(tmp_path: Path) -> None:
    async with people_cities(tmp_path) as people:
        oldenburg = people.cities.oldenburg
        await add_account(oldenburg, "neu@oldenburg.example")
        async with Visitor(oldenburg) as newcomer:
            assert (await newcomer.login("neu@oldenburg.example")).status_code == 303
            page = await newcomer.get("/people")
            assert page.status_code == 200
            assert "Ihr Profil ist noch nicht vollständig" in page.text
            assert not TARGET.findall(page.text)

        await set_paused(oldenburg, people.cities.anna, True)
        async with Visitor(oldenburg) as anna:
            assert (await anna.login(ANNA)).status_code == 303
            page = await anna.get("/people?interest=sport")
            assert page.status_code == 200
            assert "Die Zwillingssuche ist pausiert" in page.text
            assert not TARGET.findall(page.text)
            assert "In den Einstellungen fortsetzen" in page.text

        async with Visitor(oldenburg, "en") as stranger:
            gone = await stranger.get("/people")
            assert gone.status_code == 303 and gone.headers["Location"].startswith("/login")
