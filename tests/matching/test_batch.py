"""The full run must give exactly what the scalar reference gives, in any order, anywhere."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from matching import tuning
from matching.batch import match_pair
from matching.profile import InterestProfile
from matching.results import PairResult, Suggestion
from matching.score import RarityWeights, rarity_weights, score, score_units
from matching.settings import MatchSettings
from matching.twin import capacity_for
from tests.matching.residents import CODES, parent, population

ROOT = Path(__file__).resolve().parents[2]
"""The repository root, from which a fresh interpreter can import these tests."""

PERSON_OR_FAMILY = {
    "person": frozenset({"person", "family"}),
    "family": frozenset({"person", "family"}),
    "club": frozenset({"club"}),
    "school_class": frozenset({"school_class"}),
}


def reference_lists(
    side: Sequence[InterestProfile],
    others: Sequence[InterestProfile],
    weights: RarityWeights,
    settings: MatchSettings,
    length: int,
) -> dict[str, list[tuple[str, int]]]:
    """Brute force: every pair scored by the scalar reference, ties by id."""
    lists = {}
    for a in side:
        scored = [(score_units(a, b, weights, settings.kind_gates), b.id) for b in others]
        ranked = sorted((item for item in scored if item[0] > 0), key=lambda x: (-x[0], x[1]))
        lists[a.id] = [(other, units) for units, other in ranked[:length]]
    return lists


def check_against_reference(
    side_a: list[InterestProfile], side_b: list[InterestProfile], settings: MatchSettings
) -> PairResult:
    result = match_pair(side_a, side_b, codes=CODES, parent=parent, settings=settings)
    weights = result.weights
    assert weights == rarity_weights(side_a + side_b, CODES, parent)
    by_id = {r.id: r for r in side_a + side_b}
    for side, others in ((side_a, side_b), (side_b, side_a)):
        expected = reference_lists(side, others, weights, settings, settings.top_k)
        for resident in side:
            got = result.suggestions[resident.id]
            want = expected[resident.id][: settings.top_k]
            assert [s.other_id for s in got] == [other for other, _ in want]
            for suggestion in got:
                other = by_id[suggestion.other_id]
                assert suggestion.score == score(resident, other, weights, settings.kind_gates)
    check_twins(result, side_a, side_b, weights, settings)
    return result


def check_twins(
    result: PairResult,
    side_a: list[InterestProfile],
    side_b: list[InterestProfile],
    weights: RarityWeights,
    settings: MatchSettings,
) -> None:
    """Capacities respected, and no blocking pair among all gate-passing pairs."""
    larger, smaller = (side_a, side_b) if len(side_a) >= len(side_b) else (side_b, side_a)
    capacity = capacity_for(len(larger), len(smaller))
    by_id = {r.id: r for r in side_a + side_b}
    twins = {k: tuple(t.other_id for t in v) for k, v in result.twins.items()}
    assert set(twins) == set(by_id)
    for resident in larger:
        assert len(twins[resident.id]) <= 1
    for resident in smaller:
        assert len(twins[resident.id]) <= capacity
        for other in twins[resident.id]:
            assert twins[other] == (resident.id,)

    def units(a: str, b: str) -> int:
        return score_units(by_id[a], by_id[b], weights, settings.kind_gates)

    def prefers(who: str, new: str, current: str) -> bool:
        return (units(who, new), current) > (units(who, current), new)

    gated = [(a.id, b.id) for a in larger for b in smaller if units(a.id, b.id) > 0]
    for big, small in gated:
        if twins[big] == (small,):
            continue
        big_wants = not twins[big] or prefers(big, small, twins[big][0])
        held = twins[small]
        small_wants = len(held) < capacity or any(prefers(small, big, x) for x in held)
        assert not (big_wants and small_wants), f"blocking pair {big} {small}"
    for resident_id, found in result.twins.items():
        for twin in found:
            assert twin.score == score(
                by_id[resident_id], by_id[twin.other_id], weights, settings.kind_gates
            )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_engine_equals_scalar_reference(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tuning, "TWIN_CHOICES", 8)
    side_a = population("oldenburg", 70, seed)
    side_b = population("cholet", 30, seed)
    check_against_reference(side_a, side_b, MatchSettings(top_k=5))


def test_engine_equals_reference_with_configured_kind_gates() -> None:
    side_a = population("oldenburg", 50, 4)
    side_b = population("cholet", 45, 4)
    check_against_reference(side_a, side_b, MatchSettings(PERSON_OR_FAMILY, top_k=4))


@pytest.mark.parametrize(("threads", "sparse_share"), [(1, 0.0), (1, 1.01), (3, 0.5)])
def test_blocked_path_equals_reference(
    threads: int, sparse_share: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tiny blocks and chunks, so that a small population crosses every code path, on
    the calling thread and on several, with dense and sparse products."""
    monkeypatch.setattr(tuning, "PASS_THREADS", threads)
    monkeypatch.setattr(tuning, "SPARSE_SHARE", sparse_share)
    monkeypatch.setattr(tuning, "ROW_BLOCK", 32)
    monkeypatch.setattr(tuning, "CHUNK_COLUMNS", 64)
    monkeypatch.setattr(tuning, "NARROW_COLUMNS", 0)
    monkeypatch.setattr(tuning, "TWIN_CHOICES", 4)
    side_a = population("oldenburg", 160, 5)
    side_b = population("cholet", 140, 5)
    check_against_reference(side_a, side_b, MatchSettings(top_k=3))


@pytest.mark.parametrize("choices", [1, 3, 32])
def test_twins_do_not_depend_on_the_length_of_the_first_lists(
    choices: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only speed: residents turned away by all of their first choices ask for more."""
    side_a = population("oldenburg", 120, 14)
    side_b = population("cholet", 40, 14)
    expected = match_pair(side_a, side_b, codes=CODES, parent=parent).twins
    monkeypatch.setattr(tuning, "TWIN_CHOICES", choices)
    assert match_pair(side_a, side_b, codes=CODES, parent=parent).twins == expected


def test_result_does_not_depend_on_argument_or_input_order() -> None:
    side_a = population("oldenburg", 60, 6)
    side_b = population("cholet", 25, 6)
    result = match_pair(side_a, side_b, codes=CODES, parent=parent)
    assert match_pair(side_b, side_a, codes=CODES, parent=parent) == result
    rng = random.Random(0)
    shuffled_a, shuffled_b = side_a[:], side_b[:]
    rng.shuffle(shuffled_a)
    rng.shuffle(shuffled_b)
    assert match_pair(shuffled_b, shuffled_a, codes=CODES, parent=parent) == result


def test_equal_sizes_pick_the_same_proposing_side_either_way() -> None:
    side_a = population("oldenburg", 30, 7)
    side_b = population("cholet", 30, 7)
    result = match_pair(side_a, side_b, codes=CODES, parent=parent)
    assert match_pair(side_b, side_a, codes=CODES, parent=parent) == result


def digest(result: PairResult) -> str:
    """A fingerprint of a whole result, comparable across processes."""
    data = {
        "suggestions": {
            k: [(s.other_id, s.score) for s in v] for k, v in result.suggestions.items()
        },
        "twins": {k: [(t.other_id, t.score) for t in v] for k, v in result.twins.items()},
        "weights": list(result.weights.weights),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def small_match_digest() -> str:
    side_a = population("oldenburg", 80, 8)
    side_b = population("cholet", 35, 8)
    return digest(match_pair(side_a, side_b, codes=CODES, parent=parent))


def test_same_result_in_another_process_with_another_hash_seed() -> None:
    script = (
        "import importlib.util, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        f"spec = importlib.util.spec_from_file_location('engine_check', {str(Path(__file__))!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "print(module.small_match_digest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert other.stdout.strip() == small_match_digest()


def test_ties_are_broken_by_id() -> None:
    template = population("cholet", 1, 12)[0]
    clones = [
        InterestProfile(
            id=f"https://cholet.example/p/{name}",
            kind=template.kind,
            interests=template.interests,
            occupation=template.occupation,
            languages=template.languages,
            learning=template.learning,
            age_band=template.age_band,
            children_age_bands=template.children_age_bands,
        )
        for name in ("d", "b", "e", "a", "c")
    ]
    viewer = InterestProfile(
        id="https://oldenburg.example/p/x",
        kind=template.kind,
        interests=template.interests,
        languages={"en": "C1", **template.languages},
        age_band=template.age_band,
        children_age_bands=template.children_age_bands,
    )
    result = match_pair([viewer], clones, codes=CODES, parent=parent)
    got = result.suggestions[viewer.id]
    assert [s.other_id[-1] for s in got] == ["a", "b", "c", "d", "e"]
    assert len({s.score for s in got}) == 1
    # The viewer is the smaller side (capacity 5): all five, listed by score then id.
    assert result.twins[viewer.id] == got


def test_residents_without_candidates_have_no_twin_and_no_suggestions() -> None:
    club = InterestProfile(
        id="https://oldenburg.example/p/club", kind="club", languages={"de": "native"}
    )
    mute = InterestProfile(
        id="https://oldenburg.example/p/mute", kind="person", languages={"de": "native"}
    )
    person = InterestProfile(
        id="https://cholet.example/p/person", kind="person", languages={"de": "B2"}
    )
    result = match_pair([club, mute], [person], codes=CODES, parent=parent)
    assert result.suggestions[club.id] == ()
    assert result.twins[club.id] == ()
    assert result.suggestions[person.id] == (
        Suggestion(mute.id, result.suggestions[mute.id][0].score),
    )
    assert [t.other_id for t in result.twins[person.id]] == [mute.id]


def test_empty_side() -> None:
    side_a = population("oldenburg", 5, 13)
    result = match_pair(side_a, [], codes=CODES, parent=parent)
    assert all(result.suggestions[r.id] == () for r in side_a)
    assert all(result.twins[r.id] == () for r in side_a)


def test_repeated_ids_are_refused() -> None:
    side_a = population("oldenburg", 3, 14)
    with pytest.raises(ValueError, match="unique"):
        match_pair(side_a, [side_a[0]], codes=CODES, parent=parent)
