"""The data export over real HTTP between two real nodes: besides the account and the
profile it holds what the node told its partner cities about the resident (every
pseudonym, the vector exactly as sent), the current twins and suggestions with their
scores, the reports the resident filed and the retention periods, and nothing of
another resident of the same node."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from node.contacts import consent as contacts
from node.contacts import messages, reports
from node.models import OutboxActivity
from node.runtime import appkeys
from support.contacts import (
    ANNA,
    BRUNO_NAME,
    act,
    add_person,
    ask,
    messages_of,
    the_contact,
    twin_cities,
    until_contact,
)
from support.federation import wait_for
from support.nodes import RunningNode
from support.population import matches, pseudonym_urls, recompute
from support.web import Visitor

CARLA = "carla@oldenburg.example"
CARLA_NAME, CARLA_ABOUT = "Carlaqxname Nachbarin", "Carlaqxabout singt im Chor."
CARLA_COMMENT = "Carlaqxcomment hat mich bedrängt"
ANNA_COMMENT = "Annaqxcomment: unpassende Nachrichten"
BRUNO_WORDS = "Brunoqxmessage: salut Anna"


async def _last_profile_update(node: RunningNode, actor: str) -> dict[str, Any]:
    """The object of the last ``Update`` of an ``InterestProfile`` queued under ``actor``."""
    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as session:
        rows = (
            await session.scalars(
                select(OutboxActivity)
                .where(OutboxActivity.activity_type == "Update")
                .order_by(OutboxActivity.id)
            )
        ).all()
    sent = [
        row.payload["object"]
        for row in rows
        if row.payload.get("actor") == actor and row.payload["object"]["type"] == "InterestProfile"
    ]
    assert sent, f"no Update sent under {actor}"
    return dict(sent[-1])


async def _export(node: RunningNode, email: str) -> tuple[dict[str, Any], str]:
    async with Visitor(node) as visitor:
        assert (await visitor.login(email)).status_code == 303
        response = await visitor.get("/settings/export")
    assert response.status_code == 200
    return json.loads(response.text), response.text


async def test_export_holds_what_left_for_each_peer_and_nothing_of_a_neighbour(
    tmp_path: Path,
) -> None:
    async with twin_cities(tmp_path) as cities:
        oldenburg, cholet = cities.oldenburg, cities.cholet
        carla = await add_person(
            oldenburg, CARLA, CARLA_NAME, CARLA_ABOUT, {"de": "native", "fr": "B1"}
        )
        carla_actor = (await pseudonym_urls(oldenburg, carla))[cholet.config.actor_url]

        # Anna and Bruno get in contact, Bruno writes, Anna reports him.
        await recompute(oldenburg)
        await ask(oldenburg, cities.anna, cities.bruno_actor)
        request = await until_contact(
            cholet, cities.bruno, lambda c: c.their_consent == "yes", "Anna's request at Cholet"
        )
        await act(cholet, contacts.answer_request, cities.bruno, request.id, accept=True)
        anna_contact = await until_contact(
            oldenburg, cities.anna, lambda c: c.their_name == BRUNO_NAME, "Bruno revealed"
        )
        await act(cholet, messages.send_message, cities.bruno, request.id, BRUNO_WORDS)

        async def arrived() -> bool:
            return BRUNO_WORDS in [m.body for m in await messages_of(oldenburg, anna_contact.id)]

        await wait_for(arrived, what="Bruno's message at Oldenburg")
        await act(
            oldenburg, reports.file_report, cities.anna, anna_contact.id, "spam", ANNA_COMMENT
        )

        # Carla, Anna's neighbour on the same node, asks Bruno too and reports him.
        await ask(oldenburg, carla, cities.bruno_actor)
        carla_contact = await the_contact(oldenburg, carla)
        await act(oldenburg, reports.file_report, carla, carla_contact.id, "other", CARLA_COMMENT)
        await recompute(oldenburg)
        suggestions, twins = await matches(oldenburg)

        document, text = await _export(oldenburg, ANNA)

        [city] = document["partner_cities"]
        assert city["peer"] == cholet.config.actor_url
        [pseudonym] = city["pseudonyms"]
        assert pseudonym["actor"] == cities.anna_actor
        assert pseudonym["current"] is True and pseudonym["contacts"] == 1
        assert city["vector_as_sent"] == await _last_profile_update(oldenburg, cities.anna_actor)
        assert city["vector_as_sent"]["id"] == cities.anna_actor
        assert city["vector_sent_at"]
        assert [(s["pseudonym"], s["score"]) for s in city["suggestions"]] == [
            (cities.bruno_actor, suggestions[(cities.anna_actor, cities.bruno_actor)])
        ]
        assert {(t["pseudonym"], t["score"]) for t in city["twins"]} == {
            (other, score) for own, other, score in twins if own == cities.anna_actor
        }
        assert city["twins"], "Anna has a twin"

        [report] = document["reports_filed"]
        assert report["reported"] == cities.bruno_actor and report["comment"] == ANNA_COMMENT
        assert report["reason"] == "spam" and report["state"] == "open"
        assert [m["body"] for m in report["messages_kept"]] == [BRUNO_WORDS]
        assert "handled_by" not in report

        assert {name: entry["days"] for name, entry in document["retention"].items()} == {
            "activity_payload_days": 7,
            "failed_activity_days": 30,
            "handled_report_days": 180,
            "mail_file_days": 30,
            "login_sessions": 7,
        }

        assert document["account"]["email"] == ANNA
        for neighbour in (CARLA, CARLA_NAME, CARLA_ABOUT, CARLA_COMMENT, carla_actor):
            assert neighbour not in text, neighbour
        assert "carla" not in text.lower()

        # Carla's own export has her report and none of Anna's.
        carla_document, carla_text = await _export(oldenburg, CARLA)
        assert [r["comment"] for r in carla_document["reports_filed"]] == [CARLA_COMMENT]
        for neighbour in (ANNA, ANNA_COMMENT, cities.anna_actor, BRUNO_WORDS):
            assert neighbour not in carla_text, neighbour


async def test_export_lists_an_older_pseudonym_that_still_carries_a_contact(
    tmp_path: Path,
) -> None:
    async with twin_cities(tmp_path) as cities:
        oldenburg, cholet = cities.oldenburg, cities.cholet
        await ask(oldenburg, cities.anna, cities.bruno_actor)
        await until_contact(
            cholet, cities.bruno, lambda c: c.their_consent == "yes", "Anna's request at Cholet"
        )
        async with Visitor(oldenburg) as anna:
            assert (await anna.login(ANNA)).status_code == 303
            reset = await anna.submit("/settings/pseudonym", {}, page="/settings")
            assert reset.status_code == 303
        fresh = (await pseudonym_urls(oldenburg, cities.anna))[cholet.config.actor_url]
        assert fresh != cities.anna_actor

        document, _ = await _export(oldenburg, ANNA)
        [city] = document["partner_cities"]
        by_actor = {p["actor"]: p for p in city["pseudonyms"]}
        assert set(by_actor) == {cities.anna_actor, fresh}
        assert by_actor[cities.anna_actor]["current"] is False
        assert by_actor[cities.anna_actor]["contacts"] == 1
        assert by_actor[fresh]["current"] is True and by_actor[fresh]["contacts"] == 0
        assert city["vector_as_sent"]["id"] == fresh
        assert city["vector_as_sent"] == await _last_profile_update(oldenburg, fresh)
