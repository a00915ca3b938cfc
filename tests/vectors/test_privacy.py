"""What leaves a node about its residents: the coarse vector, under per-peer pseudonyms,
k-anonymised, and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from sqlalchemy import select

from node.models import InboxActivity, OutboxActivity, Resident
from node.runtime import appkeys
from node.vectors.appkeys import PUBLISHER
from node.vectors.publication import reset_pseudonym
from support.federation import FAST, wait_for
from support.nodes import node_pair
from support.population import (
    add_resident,
    delivered,
    person,
    pseudonym_urls,
    remote_vectors,
    signed_fetch,
    sync,
)

MARKERS = ("QXMARKERNAME", "qxmarker-mail", "QXMARKERABOUT", "Quixotic Zebra")


async def _everything_sent(client: httpx.AsyncClient, oldenburg, cholet) -> str:
    """Every byte Oldenburg sent Cholet: the activities as Cholet stored them, and the
    full vector set and pseudonym actors as Cholet fetches them."""
    parts = []
    async with cholet.app[appkeys.DATABASE].read() as session:
        for row in (await session.scalars(select(InboxActivity))).all():
            parts.append(json.dumps(row.payload, ensure_ascii=False))
    url: str | None = f"{oldenburg.url}/vectors"
    collection = await signed_fetch(client, url, cholet)
    parts.append(json.dumps(collection, ensure_ascii=False))
    url = collection["first"]
    actors = []
    while url:
        page = await signed_fetch(client, url, cholet)
        parts.append(json.dumps(page, ensure_ascii=False))
        actors += [item["id"] for item in page["orderedItems"]]
        url = page.get("next")
    for actor in actors:
        parts.append(json.dumps(await signed_fetch(client, actor, cholet), ensure_ascii=False))
    assert actors, "nothing was published: the scan would prove nothing"
    return "\n".join(parts)


async def test_no_name_mail_or_free_text_reaches_the_peer(tmp_path: Path) -> None:
    async with node_pair(tmp_path, extensions=[], overrides=FAST) as (oldenburg, cholet):
        for i in range(3):
            await add_resident(
                oldenburg,
                person(
                    ["sport.cycling", "music_making.choir"],
                    about=f"{MARKERS[2]} {MARKERS[3]} lives at Marker Street {i}",
                ),
                name=f"{MARKERS[0]} {i}",
                email=f"{MARKERS[1]}-{i}@example.org",
            )
        await delivered(oldenburg)
        await sync(cholet, oldenburg)
        async with httpx.AsyncClient() as client:
            sent = await _everything_sent(client, oldenburg, cholet)
        for marker in MARKERS:
            assert marker.lower() not in sent.lower(), marker
        held = await remote_vectors(cholet)
        assert len(held) == 3
        vector = next(iter(held.values()))
        assert set(vector) == {
            "type", "id", "kind", "interests", "occupation", "languages", "learning",
            "ageBand", "childrenAgeBands", "updated",
        }  # fmt: skip
        assert vector["interests"] == ["music_making.choir", "sport.cycling"]


async def test_pseudonyms_differ_per_peer_and_reset_withdraws_the_old_profile(
    tmp_path: Path,
) -> None:
    taastrup = "http://127.0.0.1:9/actor"  # a second partner city, never reachable here

    def second_peer(oldenburg, cholet) -> None:
        peers = [*oldenburg.config.peers]
        document = oldenburg.config.model_dump(exclude={"data_dir", "source"})
        document["peers"] = [p.model_dump() for p in peers] + [{"actor_url": taastrup}]
        from node.runtime.config import config_from_mapping

        oldenburg.config = config_from_mapping(
            document, data_dir=oldenburg.config.data_dir, environ={}
        )

    async with node_pair(tmp_path, extensions=[], overrides=FAST, configure=second_peer) as (
        oldenburg,
        cholet,
    ):
        resident_id = await add_resident(oldenburg, person(["sport.cycling"]))
        urls = await pseudonym_urls(oldenburg, resident_id)
        towards_cholet, towards_taastrup = urls[cholet.config.actor_url], urls[taastrup]
        assert towards_cholet != towards_taastrup
        a, b = towards_cholet.rsplit("/", 1)[1], towards_taastrup.rsplit("/", 1)[1]
        assert len(a) == len(b) == 64
        assert sum(x == y for x, y in zip(a, b, strict=True)) < 16  # unrelated digits
        await delivered_to(oldenburg, cholet)
        assert set(await remote_vectors(cholet)) == {towards_cholet}

        async with oldenburg.app[appkeys.DATABASE].write() as session:
            resident = await session.get(Resident, resident_id)
            await reset_pseudonym(session, resident, oldenburg.app[PUBLISHER])
        new = (await pseudonym_urls(oldenburg, resident_id))[cholet.config.actor_url]
        assert new != towards_cholet
        await delivered_to(oldenburg, cholet)

        async def moved() -> bool:
            return set(await remote_vectors(cholet)) == {new}

        await wait_for(moved, what="Cholet holding only the new pseudonym")
        async with httpx.AsyncClient() as client:
            old = await client.get(towards_cholet, headers={"Accept": "application/activity+json"})
            assert old.status_code == 401  # unsigned: peers only
            # The old actor stays for the contacts made under it; only its profile went.
            kept = await signed_fetch(client, towards_cholet, cholet)
            assert kept["id"] == towards_cholet
            actor = await signed_fetch(client, new, cholet)
        assert actor["type"] == "Person" and actor["id"] == new
        assert "name" not in actor and "preferredUsername" not in actor
        deletes = [row.payload for row in await _outbox(oldenburg) if row.activity_type == "Delete"]
        assert {d["object"]["id"] for d in deletes} >= {towards_cholet, towards_taastrup}
        assert {d["object"]["formerType"] for d in deletes} == {"InterestProfile"}


async def delivered_to(node, other) -> None:
    """Deliveries to ``other`` done (rows for an unreachable third peer may wait)."""
    from support.population import peer_id

    target = await peer_id(node, other)

    async def done() -> bool:
        from tests.lib.support.nodes import wake

        wake(node.app)
        return not [
            row
            for row in await _outbox(node)
            if row.peer_id == target and row.state in ("pending", "sending")
        ]

    await wait_for(done, within=30, what="deliveries to the peer")


async def _outbox(node) -> list[OutboxActivity]:
    async with node.app[appkeys.DATABASE].read() as session:
        return list((await session.scalars(select(OutboxActivity))).all())


async def test_rare_values_are_generalised_before_they_leave(tmp_path: Path) -> None:
    async with node_pair(
        tmp_path, extensions=[], overrides={**FAST, "matching": {"k_anonymity": 3}}
    ) as (
        oldenburg,
        cholet,
    ):
        for _ in range(3):
            await add_resident(oldenburg, person(["sport.cycling", "music_making.choir"]))
        # Three rare sports, one resident each: each alone would single someone out,
        # together they are three residents doing "sport".
        rare_sports = []
        for sport in ("sport.rowing", "sport.sailing", "sport.climbing"):
            rare_sports.append(await add_resident(oldenburg, person([sport, "music_making.choir"])))
        loner = await add_resident(
            oldenburg,
            person(["games.chess", "music_making.choir"], occupation="71", age_band="70-79"),
        )
        await delivered(oldenburg)
        await sync(cholet, oldenburg)
        held = await remote_vectors(cholet)
        everything = json.dumps(held)
        for rare in ("sport.rowing", "sport.sailing", "sport.climbing", "games", '"71"', "70-79"):
            assert rare not in everything, rare
        peer = cholet.config.actor_url
        for resident_id in rare_sports:
            vector = held[(await pseudonym_urls(oldenburg, resident_id))[peer]]
            assert vector["interests"] == ["music_making.choir", "sport"]
        # The loner's combination (German and French, nothing else left) is theirs
        # alone even after every step: they are withheld, not published bare.
        assert len(held) == 6
        assert (await pseudonym_urls(oldenburg, loner)).get(peer) not in held

        # Two more alike: now three share every value and the combination.
        for _ in range(2):
            await add_resident(
                oldenburg,
                person(["games.chess", "music_making.choir"], occupation="71", age_band="70-79"),
            )
        await delivered(oldenburg)
        await sync(cholet, oldenburg)
        held = await remote_vectors(cholet)
        assert len(held) == 9
        vector = held[(await pseudonym_urls(oldenburg, loner))[peer]]
        assert vector["occupation"] == "71" and vector["ageBand"] == "70-79"
        assert vector["languages"] == {"de": "native", "fr": "fluent"}


async def test_combinations_are_generalised_until_k_share_them(tmp_path: Path) -> None:
    """Every value alone is held by three, but no combination of occupation, age band
    and languages is: occupations go to the major group, bands and English go."""
    de, de_en = {"de": "native"}, {"de": "native", "en": "B2"}
    plan = [
        ("30-39", de),
        ("30-39", de),
        ("40-49", de_en),
        ("40-49", de_en),
        ("40-49", de),
        ("30-39", de_en),
    ]
    async with node_pair(
        tmp_path, extensions=[], overrides={**FAST, "matching": {"k_anonymity": 3}}
    ) as (oldenburg, cholet):
        ids = [
            await add_resident(
                oldenburg, person(["sport.cycling"], languages=languages, age_band=band)
            )
            for band, languages in plan
        ]
        await delivered(oldenburg)
        await sync(cholet, oldenburg)
        held = await remote_vectors(cholet)
        peer = cholet.config.actor_url
        published = [held[(await pseudonym_urls(oldenburg, i))[peer]] for i in ids]
        assert [(v["occupation"], v["ageBand"], v["languages"]) for v in published] == [
            ("2", None, {"de": "native"}),
            ("2", None, {"de": "native"}),
            ("2", None, {"de": "native", "en": "fluent"}),
            ("2", None, {"de": "native", "en": "fluent"}),
            ("2", None, {"de": "native"}),
            ("2", None, {"de": "native", "en": "fluent"}),
        ]
        assert "B2" not in json.dumps(held)
