"""The "my twin" page: twin and suggestions with percentage and reasons in the viewer's
language, honest empty states, and nothing the shared vector does not contain."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from node.models import Resident
from node.runtime import appkeys
from support.federation import FAST
from support.nodes import node_pair
from support.population import (
    acquainted,
    add_resident,
    delivered,
    person,
    pseudonym_urls,
    recompute,
    remote_vectors,
    sync,
)
from support.web import Visitor

CHOLET_MARKERS = ("ZQCHOLETNAME", "zqcholet-mail", "ZQCHOLETABOUT")
ANNA_MARKER = "ZQANNAABOUT"
PERCENT = re.compile(r"\b\d{1,3} %")


async def test_the_twin_page_in_german_and_french(tmp_path: Path) -> None:
    async with node_pair(tmp_path, overrides=FAST) as (oldenburg, cholet):
        await acquainted(oldenburg, cholet)
        async with Visitor(oldenburg, "de") as anna, Visitor(cholet, "fr") as jeanne:
            await anna.with_profile("anna@example.org", about=ANNA_MARKER)
            waiting = await anna.get("/twin")
            assert waiting.status_code == 200
            assert "Mein Zwilling" in waiting.text
            assert "sobald die Daten der Partnerstadt angekommen sind" in waiting.text

            await jeanne.with_profile(
                "jeanne@example.fr",
                **{"spoken-1-language": "fr", "spoken-2-language": "de", "spoken-2-level": "B2"},
                about=ANNA_MARKER.replace("ANNA", "JEANNE"),
            )
            for i in range(3):
                await add_resident(
                    cholet,
                    person(
                        ["sport.cycling", "music_making.choir"],
                        languages={"fr": "native", "de": "B2"},
                        about=f"{CHOLET_MARKERS[2]} {i}",
                    ),
                    name=f"{CHOLET_MARKERS[0]} {i}",
                    email=f"{CHOLET_MARKERS[1]}-{i}@example.fr",
                    language="fr",
                )
            await delivered(oldenburg)
            await delivered(cholet)
            await sync(oldenburg, cholet)
            await sync(cholet, oldenburg)
            await recompute(oldenburg)
            await recompute(cholet)

            german = (await anna.get("/twin")).text
            french = (await jeanne.get("/twin")).text

        assert "Ihr Zwilling" in german and PERCENT.search(german)
        assert "Sie beide: Chor, Radfahren" in german
        assert "Tandem" in german or "gemeinsame Sprache" in german
        for marker in (*CHOLET_MARKERS, "JEANNE"):
            assert marker.lower() not in german.lower(), marker

        assert "Mon jumeau" in french and "Votre jumeau" in french and PERCENT.search(french)
        assert "Vous deux\u202f: " in french and "vélo" in french
        for marker in (ANNA_MARKER, "anna@example.org"):
            assert marker.lower() not in french.lower(), marker


async def test_the_twin_page_says_when_matching_is_paused(tmp_path: Path) -> None:
    async with node_pair(tmp_path, overrides=FAST) as (oldenburg, _cholet):
        async with Visitor(oldenburg, "de") as anna:
            await anna.with_profile("anna@example.org")
            saved = await anna.submit(
                "/settings/preferences", {"language": "de", "paused": "1"}, page="/settings"
            )
            assert saved.status_code == 303
            page = await anna.get("/twin")
        assert page.status_code == 200
        assert "pausiert" in page.text
        assert not PERCENT.search(page.text)


async def test_resetting_the_anonymous_name_from_the_settings(tmp_path: Path) -> None:
    async with node_pair(tmp_path, overrides=FAST) as (oldenburg, cholet):
        await acquainted(oldenburg, cholet)
        async with Visitor(oldenburg, "de") as anna:
            await anna.with_profile("anna@example.org")
            settings = await anna.get("/settings")
            assert "anonymen Namen zurücksetzen" in settings.text
            assert oldenburg.app is not None
            async with oldenburg.app[appkeys.DATABASE].read() as session:
                resident_id = await session.scalar(
                    select(Resident.id).where(Resident.email == "anna@example.org")
                )
            before = await pseudonym_urls(oldenburg, resident_id)
            reset = await anna.submit("/settings/pseudonym", {}, page="/settings")
            assert reset.status_code == 303
            after = await pseudonym_urls(oldenburg, resident_id)
            assert before and after and set(before.values()).isdisjoint(after.values())
            shown = await anna.get(reset.headers["Location"])
            assert "wurde zurückgesetzt" in shown.text


async def test_the_twin_page_says_when_k_anonymity_withholds_the_profile(tmp_path: Path) -> None:
    """With k = 5, the first person of a node cannot be shared anonymously: the page says
    so instead of waiting for a twin that cannot come, and no peer receives a vector;
    once enough residents take part, the same page shows the usual states."""
    strict = {**FAST, "matching": {"k_anonymity": 5}}
    async with node_pair(tmp_path, overrides=strict) as (oldenburg, cholet):
        await acquainted(oldenburg, cholet)
        async with Visitor(oldenburg, "en") as anna:
            await anna.with_profile("anna@example.org")
            page = await anna.get("/twin")
            assert page.status_code == 200
            assert "not shared with partner cities yet" in page.text
            assert "fewer than 5 people" in page.text
            await delivered(oldenburg)
            assert await remote_vectors(cholet) == {}

            for _ in range(5):
                await add_resident(oldenburg, person(["sport.cycling"], languages={"de": "native"}))
            await delivered(oldenburg)
            shared = await anna.get("/twin")
            assert "not shared with partner cities yet" not in shared.text
            assert len(await remote_vectors(cholet)) == 6
