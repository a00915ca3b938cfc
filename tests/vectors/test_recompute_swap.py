"""A full recomputation writes a new generation of results and swaps it in.

One node (on the backend under test) with residents saved through the profile
service and a partner city's vectors stored as received. Readers must see the previous
results until the new ones are complete, a second computation replaces rather than adds
to them, a computation that dies half-way leaves the previous results in place, and
rows of a resident who withdrew or left (or of a partner profile that vanished) while
the computation ran are never written.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from matching.profile import InterestProfile
from node.accounts import accounts
from node.matches import _store, compute
from node.matches._refresh import refresh_residents
from node.matches.appkeys import MATCHING
from node.matches.compute import RecomputeResult
from node.models import MatchGeneration, RemoteProfile, Resident, Suggestion, Twin, utcnow
from node.peers import registry
from node.profiles import profiles
from node.runtime import appkeys
from node.runtime.db import Database
from node.vectors.appkeys import PUBLISHER
from node.vectors.stored import stored_form
from support.databases import scratch_database
from support.nodes import RunningNode, prepare_node
from support.population import add_resident, person, set_paused, varied_profiles

PEER = "https://cholet.example/actor"
LOCAL = 30
REMOTE = 40


@dataclass
class City:
    node: RunningNode
    db: Database
    peer_id: int
    residents: list[int]

    async def recompute(self) -> RecomputeResult:
        assert self.node.app is not None
        [result] = await compute.recompute_all(self.db, self.node.app[MATCHING])
        return result


@asynccontextmanager
async def city(tmp_path: Path) -> AsyncIterator[City]:
    async with scratch_database(tmp_path) as url:
        node = await prepare_node(tmp_path, "oldenburg", url)
        await node.start(run_workers=False)
        try:
            assert node.app is not None
            db = node.app[appkeys.DATABASE]
            async with db.write() as session:
                peer = await registry.upsert(session, PEER, source="admin")
                await session.flush()
                peer_id = peer.id
            residents = [
                await add_resident(node, profile)
                for profile in varied_profiles(LOCAL, seed=3, native="de", other="fr")
            ]
            now = utcnow()
            async with db.write() as session:
                for number, data in enumerate(varied_profiles(REMOTE, 5, "fr", "de")):
                    profile = InterestProfile(
                        id=f"https://cholet.example/p/{number:064x}",
                        kind="person",
                        interests=tuple(sorted(data.interests)),
                        occupation=data.occupation,
                        languages=dict(data.languages),
                        learning=tuple(data.learning),
                        age_band=data.age_band,
                    )
                    session.add(
                        RemoteProfile(
                            peer_id=peer_id,
                            actor_url=profile.id,
                            vector=stored_form(profile),
                            updated=now,
                            sequence=1,
                        )
                    )
            yield City(node, db, peer_id, residents)
        finally:
            await node.stop()


Shown = set[tuple[int, int, float]]


async def shown(db: Database) -> tuple[Shown, Shown]:
    """What readers see: (resident, remote profile, score) of suggestions and twins."""
    async with db.read() as session:
        result = []
        for model in (Suggestion, Twin):
            rows = await session.execute(
                select(model.resident_id, model.remote_profile_id, model.score).where(
                    model.current()
                )
            )
            result.append({(r, p, s) for r, p, s in rows})
    return result[0], result[1]


async def stored_rows(db: Database) -> int:
    """Every row of both tables, shown or not."""
    total = 0
    async with db.read() as session:
        for model in (Suggestion, Twin):
            total += int(await session.scalar(select(func.count()).select_from(model)) or 0)
    return total


async def generation(db: Database, peer_id: int) -> int:
    async with db.read() as session:
        value = await session.scalar(
            select(MatchGeneration.current).where(MatchGeneration.peer_id == peer_id)
        )
    return value or 0


def pause_before_flip(
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[asyncio.Event, asyncio.Event]:
    """Hold the computation once its rows are written, just before they are shown."""
    reached, release = asyncio.Event(), asyncio.Event()
    original = _store._flip

    async def flip(*args: Any) -> None:
        reached.set()
        await release.wait()
        await original(*args)

    monkeypatch.setattr(_store, "_flip", flip)
    return reached, release


def before_writing(monkeypatch: pytest.MonkeyPatch, action: Callable[[], Awaitable[None]]) -> None:
    """Run ``action`` once the sides are loaded and matched, before anything is written."""
    original = compute.write_generation

    async def write(*args: Any) -> tuple[int, int]:
        await action()
        return await original(*args)

    monkeypatch.setattr(compute, "write_generation", write)


async def test_readers_see_the_previous_results_until_the_new_ones_are_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with city(tmp_path) as town:
        first = await town.recompute()
        assert first.suggestions and first.twins
        before = await shown(town.db)
        assert len(before[0]) == first.suggestions and len(before[1]) == first.twins
        stored_once = await stored_rows(town.db)

        reached, release = pause_before_flip(monkeypatch)
        running = asyncio.create_task(town.recompute())
        await asyncio.wait_for(reached.wait(), 60)
        assert await shown(town.db) == before  # the new rows are written, not shown
        assert await generation(town.db, town.peer_id) == 1
        release.set()
        second = await running

        assert await generation(town.db, town.peer_id) == 2
        assert await shown(town.db) == before  # the same vectors, the same results
        assert (second.suggestions, second.twins) == (first.suggestions, first.twins)
        assert await stored_rows(town.db) == stored_once  # replaced, not added


async def test_a_computation_that_dies_half_way_leaves_the_previous_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with city(tmp_path) as town:
        await town.recompute()
        before = await shown(town.db)
        stored_once = await stored_rows(town.db)

        async def crash(*_args: Any) -> None:
            raise RuntimeError("the machine went down")

        with monkeypatch.context() as patched:
            patched.setattr(_store, "_flip", crash)
            with pytest.raises(RuntimeError):
                await town.recompute()
        assert await shown(town.db) == before
        assert await generation(town.db, town.peer_id) == 1

        await town.recompute()  # drops what the dead one left, writes generation 3
        assert await generation(town.db, town.peer_id) == 3
        assert await shown(town.db) == before
        assert await stored_rows(town.db) == stored_once


async def test_residents_who_withdraw_or_leave_meanwhile_get_no_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with city(tmp_path) as town:
        assert town.node.app is not None
        app = town.node.app
        await town.recompute()
        suggestions, twins = await shown(town.db)
        paused, leaving = town.residents[0], town.residents[1]
        assert {paused, leaving} <= {resident for resident, _, _ in suggestions}
        async with town.db.read() as session:
            vanishing = int(await session.scalar(select(func.min(RemoteProfile.id))) or 0)
        assert vanishing in {remote for _, remote, _ in suggestions}

        async def meanwhile() -> None:
            await set_paused(town.node, paused, True)
            async with town.db.write() as session:
                resident = await session.get(Resident, leaving)
                assert resident is not None
                await accounts.delete_account(session, resident, app[PUBLISHER])
            async with town.db.write() as session:  # as the peer's Delete would
                await session.execute(delete(RemoteProfile).where(RemoteProfile.id == vanishing))

        before_writing(monkeypatch, meanwhile)
        result = await town.recompute()

        suggestions, twins = await shown(town.db)
        assert suggestions and twins
        assert result.suggestions == len(suggestions) and result.twins == len(twins)
        for rows in (suggestions, twins):
            assert not {paused, leaving} & {resident for resident, _, _ in rows}
            assert vanishing not in {remote for _, remote, _ in rows}
        async with town.db.read() as session:
            for model in (Suggestion, Twin):
                left = await session.scalar(
                    select(func.count())
                    .select_from(model)
                    .where(
                        (model.resident_id.in_([paused, leaving]))
                        | (model.remote_profile_id == vanishing)
                    )
                )
                assert left == 0  # in no generation at all


async def test_results_follow_a_deleted_remote_profile(tmp_path: Path) -> None:
    async with city(tmp_path) as town:
        await town.recompute()
        suggestions, _ = await shown(town.db)
        target = next(iter(suggestions))[1]
        async with town.db.write() as session:
            await session.execute(delete(RemoteProfile).where(RemoteProfile.id == target))
        suggestions, twins = await shown(town.db)
        assert target not in {remote for _, remote, _ in suggestions | twins}


async def test_a_process_of_its_own_computes_the_same_results(tmp_path: Path) -> None:
    async with city(tmp_path) as town:
        assert town.node.app is not None
        state = town.node.app[MATCHING]
        in_thread = await town.recompute()
        assert in_thread.offload == "thread"
        before = await shown(town.db)
        weights = state.peers[town.peer_id].weights

        state.process_from = 0
        in_process = await town.recompute()
        assert in_process.offload == "process"
        assert await shown(town.db) == before
        assert state.peers[town.peer_id].weights == weights
        assert len(state.peers[town.peer_id].index.ids) == REMOTE


async def test_a_profile_edited_during_the_computation_keeps_its_fresh_suggestions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with city(tmp_path) as town:
        assert town.node.app is not None
        app = town.node.app
        await town.recompute()
        editor = town.residents[2]

        async def edit() -> None:
            async with town.db.write() as session:
                resident = await session.get(Resident, editor)
                assert resident is not None
                await profiles.save_profile(
                    session, resident, person(["games.chess", "sport.cycling"]), app[PUBLISHER]
                )

        before_writing(monkeypatch, edit)
        await town.recompute()  # computed from the vector before the edit
        mine = {row for row in (await shown(town.db))[0] if row[0] == editor}
        await refresh_residents(town.db, app[MATCHING], [editor])
        assert mine and mine == {row for row in (await shown(town.db))[0] if row[0] == editor}
