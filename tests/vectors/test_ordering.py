"""A full resync racing inbox deliveries: the pages and the activities carry the same
per-pseudonym sequence numbers, so whichever arrives last, the newer change wins.

Each test pulls Oldenburg's set for Cholet with a fetch that lets something happen at
Oldenburg (and be delivered to Cholet) after the pages were read and before they are
applied: exactly the window in which a resync could undo a newer change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from node.models import Resident
from node.peer_vectors.appkeys import VECTOR_STATS
from node.peer_vectors.sync import sync_peer
from node.peers.appkeys import FETCHER
from node.profiles import profiles
from node.runtime import appkeys
from node.vectors.appkeys import PUBLISHER
from support.federation import FAST
from support.nodes import RunningNode, node_pair
from support.population import (
    acquainted,
    add_resident,
    delivered,
    peer_id,
    person,
    pseudonym_urls,
    remote_vectors,
    set_paused,
)


async def sync_with_interruption(
    reader: RunningNode, publisher: RunningNode, meanwhile: Callable[[], Awaitable[None]]
) -> Any:
    """Sync ``reader`` from ``publisher``; ``meanwhile`` runs once the last page is read."""
    assert reader.app is not None
    fetch = reader.app[FETCHER]

    async def fetch_then_interrupt(url: str) -> Any:
        document = await fetch(url)
        if document.get("type") == "OrderedCollectionPage" and not document.get("next"):
            await meanwhile()
        return document

    return await sync_peer(
        reader.app[appkeys.DATABASE],
        fetch_then_interrupt,
        await peer_id(reader, publisher),
        reader.app[VECTOR_STATS],
    )


async def test_a_page_read_before_a_pause_does_not_bring_the_profile_back(tmp_path: Path) -> None:
    async with node_pair(tmp_path, extensions=[], overrides=FAST) as (oldenburg, cholet):
        await acquainted(oldenburg, cholet)
        resident = await add_resident(oldenburg, person(["sport.cycling"]))
        actor = (await pseudonym_urls(oldenburg, resident))[cholet.config.actor_url]
        await delivered(oldenburg)
        assert actor in await remote_vectors(cholet)

        async def pause() -> None:
            await set_paused(oldenburg, resident, True)
            await delivered(oldenburg)
            assert actor not in await remote_vectors(cholet)

        result = await sync_with_interruption(cholet, oldenburg, pause)
        assert result.fetched == 1 and result.reconciled.blocked == 1
        assert actor not in await remote_vectors(cholet)


async def test_a_page_read_during_a_pause_keeps_the_resumed_profile(tmp_path: Path) -> None:
    async with node_pair(tmp_path, extensions=[], overrides=FAST) as (oldenburg, cholet):
        await acquainted(oldenburg, cholet)
        resident = await add_resident(oldenburg, person(["sport.cycling"]))
        other = await add_resident(oldenburg, person(["sport.cycling"]))
        actor = (await pseudonym_urls(oldenburg, resident))[cholet.config.actor_url]
        await set_paused(oldenburg, resident, True)
        await delivered(oldenburg)
        assert actor not in await remote_vectors(cholet)

        async def resume() -> None:
            await set_paused(oldenburg, resident, False)
            await delivered(oldenburg)
            assert actor in await remote_vectors(cholet)

        result = await sync_with_interruption(cholet, oldenburg, resume)
        assert result.fetched == 1 and result.reconciled.removed == 0
        held = await remote_vectors(cholet)
        assert actor in held
        assert (await pseudonym_urls(oldenburg, other))[cholet.config.actor_url] in held


async def test_a_page_read_before_an_edit_does_not_undo_the_edit(tmp_path: Path) -> None:
    async with node_pair(tmp_path, extensions=[], overrides=FAST) as (oldenburg, cholet):
        await acquainted(oldenburg, cholet)
        resident = await add_resident(oldenburg, person(["sport.cycling"]))
        actor = (await pseudonym_urls(oldenburg, resident))[cholet.config.actor_url]
        await delivered(oldenburg)

        async def edit() -> None:
            assert oldenburg.app is not None
            async with oldenburg.app[appkeys.DATABASE].write() as session:
                row = await session.get(Resident, resident)
                assert row is not None
                await profiles.save_profile(
                    session, row, person(["games.chess"]), oldenburg.app[PUBLISHER]
                )
            await delivered(oldenburg)
            assert (await remote_vectors(cholet))[actor]["interests"] == ["games.chess"]

        result = await sync_with_interruption(cholet, oldenburg, edit)
        assert result.reconciled.stored == 0 and result.reconciled.unchanged == 1
        assert (await remote_vectors(cholet))[actor]["interests"] == ["games.chess"]
