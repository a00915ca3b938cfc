"""Both nodes compute the matches themselves, from the shared vectors only, and agree."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from matching.batch import match_pair
from matching.exposure import exposure_cap
from matching.settings import MatchSettings
from matching.taxonomy import load_taxonomy
from node.vectors.stored import stored_profile
from support.federation import FAST
from support.nodes import node_pair
from support.population import (
    acquainted,
    add_resident,
    delivered,
    matches,
    person,
    recompute,
    remote_vectors,
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


async def test_both_nodes_store_the_same_exposure_capped_lists(tmp_path: Path) -> None:
    """With a cap that binds, each node's stored lists are its residents' part of one
    and the same result: the one matching computes from the vectors both hold."""
    overrides = {**FAST, "matching": {"k_anonymity": 1, "exposure_factor": 0.5}}
    async with node_pair(tmp_path, extensions=[], overrides=overrides) as (oldenburg, cholet):
        await acquainted(oldenburg, cholet)
        for profile in varied_profiles(RESIDENTS, seed=3, native="de", other="fr"):
            await add_resident(oldenburg, profile, name="Oldenburger")
        for profile in varied_profiles(RESIDENTS // 2, seed=4, native="fr", other="de"):
            await add_resident(cholet, profile, name="Choletais", language="fr")
        await delivered(oldenburg)
        await delivered(cholet)
        await sync(oldenburg, cholet)
        await sync(cholet, oldenburg)
        await recompute(oldenburg)
        await recompute(cholet)
        stored = {}
        for node in (oldenburg, cholet):
            suggestions, _ = await matches(node)
            stored[node.url] = suggestions

        # What each node holds of the other is exactly what the other published.
        held_at_cholet = [stored_profile(v, a) for a, v in (await remote_vectors(cholet)).items()]
        held_at_oldenburg = [
            stored_profile(v, a) for a, v in (await remote_vectors(oldenburg)).items()
        ]
        taxonomy = load_taxonomy()
        settings = MatchSettings(exposure_factor=0.5)
        result = match_pair(
            held_at_cholet,
            held_at_oldenburg,
            codes=taxonomy.codes,
            parent=taxonomy.parent,
            settings=settings,
        )
        for node, owners in ((oldenburg, held_at_cholet), (cholet, held_at_oldenburg)):
            expected = {
                (owner.id, s.other_id): s.score
                for owner in owners
                for s in result.suggestions[owner.id]
            }
            assert stored[node.url] == expected

        # The cap binds: without it, some profile would sit in more lists.
        cap = exposure_cap(RESIDENTS, RESIDENTS // 2, settings.top_k, 0.5)
        exposure = Counter(other for _, other in stored[oldenburg.url])
        assert max(exposure.values()) == cap
        free = match_pair(
            held_at_cholet,
            held_at_oldenburg,
            codes=taxonomy.codes,
            parent=taxonomy.parent,
            settings=MatchSettings(exposure_factor=0),
        )
        unconstrained = Counter(
            s.other_id for owner in held_at_cholet for s in free.suggestions[owner.id]
        )
        assert max(unconstrained.values()) > cap
