"""Nothing personal crosses before both said yes; afterwards exactly the display name and
the about-text each chose to show, addressed to the other pseudonym only."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from sqlalchemy import select

from node.contacts import consent as contacts
from node.models import InboxActivity, OutboxActivity
from node.runtime import appkeys
from support.contacts import (
    ANNA,
    ANNA_ABOUT,
    ANNA_NAME,
    BRUNO,
    BRUNO_ABOUT,
    BRUNO_NAME,
    Cities,
    act,
    ask,
    twin_cities,
    until_contact,
)
from support.nodes import RunningNode
from support.population import signed_fetch

MARKERS = ("qxname", "qxabout", ANNA, BRUNO, "oldenburg.example", "cholet.example")


async def _stored(node: RunningNode) -> list[dict]:
    """Every activity the node sent or is about to send, and every one it received."""
    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as session:
        sent = (await session.scalars(select(OutboxActivity.payload))).all()
        received = (await session.scalars(select(InboxActivity.payload))).all()
    return [*sent, *received]


async def _fetched(client: httpx.AsyncClient, source: RunningNode, reader: RunningNode) -> list:
    """What ``reader`` can fetch from ``source``: the vector pages and pseudonym actors."""
    documents = []
    collection = await signed_fetch(client, f"{source.url}/vectors", reader)
    documents.append(collection)
    url = collection.get("first")
    while url:
        page = await signed_fetch(client, url, reader)
        documents.append(page)
        for item in page.get("orderedItems", []):
            documents.append(await signed_fetch(client, item["id"], reader))
        url = page.get("next")
    return documents


async def traffic(cities: Cities) -> list[dict]:
    async with httpx.AsyncClient(timeout=30) as client:
        return [
            *await _stored(cities.oldenburg),
            *await _stored(cities.cholet),
            *await _fetched(client, cities.oldenburg, cities.cholet),
            *await _fetched(client, cities.cholet, cities.oldenburg),
        ]


def carrying(documents: list[dict], marker: str) -> list[dict]:
    return [d for d in documents if marker in json.dumps(d, ensure_ascii=False)]


async def test_names_cross_only_after_mutual_consent(tmp_path: Path) -> None:
    async with twin_cities(tmp_path, pages=False, bruno_shows_about=False) as cities:
        await ask(cities.oldenburg, cities.anna, cities.bruno_actor)
        incoming = await until_contact(
            cities.cholet, cities.bruno, lambda c: c.their_consent == "yes", "request"
        )
        before = await traffic(cities)
        assert any(d.get("type") == "Follow" for d in before)
        for marker in MARKERS:
            assert carrying(before, marker) == [], marker

        await act(cities.cholet, contacts.answer_request, cities.bruno, incoming.id, accept=True)
        await until_contact(
            cities.cholet, cities.bruno, lambda c: c.their_name == ANNA_NAME, "Anna revealed"
        )
        bruno_seen = await until_contact(
            cities.oldenburg, cities.anna, lambda c: c.their_name == BRUNO_NAME, "Bruno revealed"
        )
        assert bruno_seen.their_about is None  # Bruno chose not to show it

        after = await traffic(cities)
        for marker in (ANNA, BRUNO, "oldenburg.example", "cholet.example", BRUNO_ABOUT):
            assert carrying(after, marker) == [], marker
        for name, about, actor, other in (
            (ANNA_NAME, ANNA_ABOUT, cities.anna_actor, cities.bruno_actor),
            (BRUNO_NAME, None, cities.bruno_actor, cities.anna_actor),
        ):
            for document in carrying(after, name):
                assert document["type"] == "Update" and document["actor"] == actor
                assert document["to"] == [other] and "cc" not in document
                person = document["object"]
                assert person["type"] == "Person" and person["id"] == actor
                assert person["name"] == name and person.get("summary") == about
        assert carrying(after, ANNA_NAME) and carrying(after, BRUNO_NAME)
