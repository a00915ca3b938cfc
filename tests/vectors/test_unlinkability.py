"""Two partner cities that put their copies of a third city's residents side by side.

What this shows, and what it does not: per-peer pseudonyms, day-granular instants and
sequence numbers that start at an unrelated keyed value per pseudonym leave the two
copies without a shared identifier, instant or number to join on. The *content* is
the same coarse profile at both peers (asserted below, so that nobody reads more into
this test): joining by content, or by the moment an update arrives, stays possible,
and is what the cities' agreement forbids.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from node.models import OutboxActivity, RemoteProfile
from node.runtime import appkeys
from support.federation import FAST
from support.nodes import RunningNode, node_trio
from support.population import (
    acquainted,
    add_resident,
    delivered,
    peer_id,
    pseudonym_urls,
    signed_fetch,
    varied_profiles,
)

RESIDENTS = 8
HOUSEKEEPING = ("id", "updated", "sequence")


def at_midnight(value: str) -> bool:
    moment = datetime.fromisoformat(value)
    return moment.tzinfo is not None and moment.astimezone(UTC).time() == time()


async def held_of(node: RunningNode, publisher: RunningNode) -> dict[str, tuple[dict, int]]:
    """Actor → (vector, sequence) of what ``node`` holds of ``publisher``'s residents."""
    assert node.app is not None
    source = await peer_id(node, publisher)
    async with node.app[appkeys.DATABASE].read() as session:
        rows = await session.execute(
            select(RemoteProfile.actor_url, RemoteProfile.vector, RemoteProfile.sequence).where(
                RemoteProfile.peer_id == source
            )
        )
        return {actor: (vector, sequence) for actor, vector, sequence in rows}


async def pages_for(client: httpx.AsyncClient, publisher: RunningNode, reader: RunningNode) -> list:
    """Every page of ``publisher``'s ``GET /vectors`` as ``reader`` fetches it."""
    collection = await signed_fetch(client, f"{publisher.url}/vectors", reader)
    pages, url = [collection], collection["first"]
    while url:
        page = await signed_fetch(client, url, reader)
        pages.append(page)
        url = page.get("next")
    return pages


async def sent_to(node: RunningNode, peer: RunningNode) -> list[dict[str, Any]]:
    assert node.app is not None
    target = await peer_id(node, peer)
    async with node.app[appkeys.DATABASE].read() as session:
        rows = await session.scalars(select(OutboxActivity).where(OutboxActivity.peer_id == target))
        return [row.payload for row in rows.all() if row.payload]


def content(vector: dict[str, Any]) -> str:
    return repr(sorted((k, repr(v)) for k, v in vector.items() if k not in HOUSEKEEPING))


async def test_two_peers_copies_share_no_identifier_instant_or_number(tmp_path: Path) -> None:
    async with node_trio(tmp_path, extensions=[], overrides=FAST) as (oldenburg, cholet, taastrup):
        await acquainted(oldenburg, cholet)
        await acquainted(oldenburg, taastrup)
        ids = [
            await add_resident(oldenburg, profile)
            for profile in varied_profiles(RESIDENTS, seed=11, native="de", other="fr")
        ]
        await delivered(oldenburg)
        at_cholet = await held_of(cholet, oldenburg)
        at_taastrup = await held_of(taastrup, oldenburg)
        assert len(at_cholet) == len(at_taastrup) == RESIDENTS

        # No identifier in common: the pseudonyms differ entirely.
        assert not set(at_cholet) & set(at_taastrup)
        names = {actor.rsplit("/", 1)[1] for actor in (*at_cholet, *at_taastrup)}
        assert len(names) == 2 * RESIDENTS

        # No instant finer than the day: every resident published today shares it.
        updated = [v["updated"] for v, _ in (*at_cholet.values(), *at_taastrup.values())]
        assert all(at_midnight(value) for value in updated), updated
        per_day = Counter(v["updated"] for v, _ in at_cholet.values())
        assert max(per_day.values()) > 1  # joining by `updated` leaves many candidates
        for peer in (cholet, taastrup):
            for activity in await sent_to(oldenburg, peer):
                assert at_midnight(activity["published"]), activity["published"]
                assert at_midnight(activity["proof"]["created"])
                assert at_midnight(activity["object"]["updated"])
        async with httpx.AsyncClient() as client:
            for reader in (cholet, taastrup):
                for page in await pages_for(client, oldenburg, reader):
                    assert at_midnight(page["proof"]["created"])
                    for item in page.get("orderedItems", []):
                        assert at_midnight(item["updated"])

        # No number in common, and their order says nothing either: each pseudonym's
        # sequence starts at a keyed value of its own.
        sequences_c = {seq for _, seq in at_cholet.values()}
        sequences_t = {seq for _, seq in at_taastrup.values()}
        assert not sequences_c & sequences_t
        truth = {}
        for resident_id in ids:
            urls = await pseudonym_urls(oldenburg, resident_id)
            truth[urls[cholet.config.actor_url]] = urls[taastrup.config.actor_url]
        by_rank_c = sorted(at_cholet, key=lambda actor: at_cholet[actor][1])
        by_rank_t = sorted(at_taastrup, key=lambda actor: at_taastrup[actor][1])
        rank_join = dict(zip(by_rank_c, by_rank_t, strict=True))
        # Chance of a perfect rank join with random orders: 1 in 8! (40,320).
        assert rank_join != truth

        # The content is the same coarse profile at both peers: by content, the copies
        # can be joined wherever a profile is unique. Only the cities' agreement (and
        # k-anonymity of the quasi-identifiers) stands against that.
        assert Counter(content(v) for v, _ in at_cholet.values()) == Counter(
            content(v) for v, _ in at_taastrup.values()
        )
