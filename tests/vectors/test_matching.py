"""Both nodes compute the matches themselves, from the shared vectors only, and agree."""

from __future__ import annotations

from pathlib import Path

from support.federation import FAST
from support.nodes import node_pair
from support.population import (
    acquainted,
    add_resident,
    delivered,
    matches,
    person,
    recompute,
    sync,
    varied_profiles,
)
from support.web import PROFILE_FORM, Visitor

RESIDENTS = 40


async def test_two_nodes_reach_the_same_twins_and_scores(tmp_path: Path) -> None:
    async with node_pair(tmp_path, extensions=[], overrides=FAST) as (oldenburg, cholet):
        await acquainted(oldenburg, cholet)
        for profile in varied_profiles(RESIDENTS, seed=1, native="de", other="fr"):
            await add_resident(oldenburg, profile, name="Oldenburger")
        for profile in varied_profiles(RESIDENTS, seed=2, native="fr", other="de"):
            await add_resident(cholet, profile, name="Choletais", language="fr")
        await delivered(oldenburg)
        await delivered(cholet)
        await sync(oldenburg, cholet)
        await sync(cholet, oldenburg)
        [at_oldenburg] = await recompute(oldenburg)
        [at_cholet] = await recompute(cholet)
        assert (at_oldenburg.local, at_oldenburg.remote) == (RESIDENTS, RESIDENTS)
        assert (at_cholet.local, at_cholet.remote) == (RESIDENTS, RESIDENTS)

        suggestions_o, twins_o = await matches(oldenburg)
        suggestions_c, twins_c = await matches(cholet)
        mirrored_twins = {(other, own, score) for own, other, score in twins_c}
        assert twins_o and twins_o == mirrored_twins
        assert len(twins_o) == RESIDENTS  # equal sizes: everyone has exactly one twin
        mirrored = {(other, own): score for (own, other), score in suggestions_c.items()}
        shared = set(suggestions_o) & set(mirrored)
        assert len(shared) >= RESIDENTS  # plenty of pairs both sides list
        assert all(suggestions_o[pair] == mirrored[pair] for pair in shared)
        assert all(0 < score <= 1 for score in suggestions_o.values())


async def test_a_profile_edit_refreshes_the_suggestions_in_the_same_request(
    tmp_path: Path,
) -> None:
    async with node_pair(tmp_path, overrides=FAST) as (oldenburg, cholet):
        await acquainted(oldenburg, cholet)
        languages = {"fr": "native", "de": "B2"}
        chess = [
            await add_resident(cholet, person(["games.chess"], languages=languages))
            for _ in range(3)
        ]
        cycling = [
            await add_resident(cholet, person(["sport.cycling"], languages=languages))
            for _ in range(3)
        ]
        assert chess and cycling
        async with Visitor(oldenburg) as anna:
            await anna.with_profile("anna@example.org", interests=["games.chess"])
            await delivered(cholet)
            await sync(oldenburg, cholet)
            await recompute(oldenburg)
            before, _ = await matches(oldenburg)
            best_before = _best(before)

            response = await anna.submit(
                "/profile", {**PROFILE_FORM, "interests": ["sport.cycling"]}
            )
            assert response.status_code == 303, response.text
            after, _ = await matches(oldenburg)  # no recomputation in between
            best_after = _best(after)
        assert best_before != best_after
        chess_actors = await _actors(cholet, chess)
        cycling_actors = await _actors(cholet, cycling)
        assert best_before <= chess_actors
        assert best_after <= cycling_actors


def _best(suggestions: dict[tuple[str, str], float]) -> set[str]:
    top = max(suggestions.values())
    return {other for (_own, other), score in suggestions.items() if score == top}


async def _actors(node, resident_ids: list[int]) -> set[str]:
    from support.population import pseudonym_urls

    urls = set()
    for resident_id in resident_ids:
        urls |= set((await pseudonym_urls(node, resident_id)).values())
    return urls
