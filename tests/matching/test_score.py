"""The scalar score: the reference the engine must equal, and what both nodes agree on."""

from __future__ import annotations

import dataclasses
import math
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from matching._touched import touched_levels
from matching.batch import match_pair
from matching.gates import language_gate
from matching.languages import coarse_languages
from matching.profile import (
    CEFR_LEVELS,
    CHILD_AGE_BANDS,
    KINDS,
    PERSON_AGE_BANDS,
    InterestProfile,
)
from matching.score import (
    AGE_UNITS,
    INTEREST_UNITS,
    LANGUAGE_UNITS,
    OCCUPATION_UNITS,
    SCORE_UNITS,
    WEIGHT_RESOLUTION,
    age_units,
    interest_units,
    interest_vector,
    language_units,
    occupation_units,
    rarity_weights,
    score,
    score_units,
    touched_dimensions,
)
from matching.settings import MatchSettings

CODES = tuple(
    sorted(
        ["sport", "music", "books"]
        + [f"sport.{x}" for x in ("cycling", "running", "rowing", "chess")]
        + [f"music.{x}" for x in ("choir", "jazz", "organ")]
        + [f"books.{x}" for x in ("crime", "poetry")]
    )
)
LEAVES = tuple(code for code in CODES if "." in code)


def parent(code: str) -> str | None:
    return code.rpartition(".")[0] or None


def resident(
    rid: str,
    interests: tuple[str, ...] = (),
    *,
    kind: str = "person",
    occupation: str | None = None,
    languages: dict[str, str] | None = None,
    learning: tuple[str, ...] = (),
    age_band: str | None = None,
    children: tuple[str, ...] = (),
) -> InterestProfile:
    return InterestProfile(
        id=f"https://example.test/p/{rid}",
        kind=kind,  # type: ignore[arg-type]
        interests=tuple(sorted(interests)),
        occupation=occupation,
        languages=languages if languages is not None else {"en": "B2"},
        learning=learning,
        age_band=age_band,
        children_age_bands=children,
    )


profiles = st.builds(
    lambda rid, interests, kind, occupation, langs, learning, age, children: resident(
        str(rid),
        tuple(interests),
        kind=kind,
        occupation=occupation,
        languages=langs,
        learning=tuple(sorted(learning)),
        age_band=age,
        children=tuple(sorted(children)),
    ),
    st.integers(0, 10**6),
    st.lists(st.sampled_from(CODES), unique=True, max_size=8),
    st.sampled_from(KINDS),
    st.one_of(st.none(), st.sampled_from(["2", "23", "24", "51", "5", "9"])),
    st.dictionaries(st.sampled_from(["de", "fr", "en"]), st.sampled_from(CEFR_LEVELS)),
    st.lists(st.sampled_from(["de", "fr", "en"]), unique=True, max_size=2),
    st.one_of(st.none(), st.sampled_from(PERSON_AGE_BANDS)),
    st.lists(st.sampled_from(CHILD_AGE_BANDS), unique=True, max_size=3),
)


def test_units_fit_float32_exactly() -> None:
    assert SCORE_UNITS < 2**23
    assert INTEREST_UNITS + OCCUPATION_UNITS + LANGUAGE_UNITS + AGE_UNITS == SCORE_UNITS
    assert OCCUPATION_UNITS % 2 == LANGUAGE_UNITS % 2 == AGE_UNITS % 2 == 0
    assert 0.59 < INTEREST_UNITS / SCORE_UNITS < 0.61


@settings(max_examples=100, deadline=None)
@given(profiles, profiles, st.lists(profiles, max_size=6))
def test_score_is_symmetric_and_in_unit_range(
    a: InterestProfile, b: InterestProfile, others: list[InterestProfile]
) -> None:
    weights = rarity_weights([a, b, *others], CODES, parent)
    forward = score(a, b, weights)
    assert forward == score(b, a, weights)
    assert 0.0 <= forward <= 1.0
    assert score_units(a, b, weights) == score_units(b, a, weights)


@settings(max_examples=100, deadline=None)
@given(profiles, st.lists(profiles, max_size=6))
def test_quantised_vector_is_at_most_unit_length(
    a: InterestProfile, others: list[InterestProfile]
) -> None:
    weights = rarity_weights([a, *others], CODES, parent)
    vector = interest_vector(a, weights)
    assert sum(q * q for q in vector.values()) <= INTEREST_UNITS
    assert all(q > 0 for q in vector.values())


def test_failing_gates_score_zero() -> None:
    weights = rarity_weights([], CODES, parent)
    a = resident("a", ("sport.cycling",), languages={"de": "native", "en": "A2"})
    b = resident("b", ("sport.cycling",), languages={"fr": "native", "en": "A2"})
    assert score(a, b, weights) == 0.0
    club = resident("c", ("sport.cycling",), kind="club")
    person = resident("d", ("sport.cycling",))
    assert score(club, person, weights) == 0.0


def test_near_perfect_pair() -> None:
    a = resident(
        "a",
        ("sport.cycling", "music.choir"),
        occupation="23",
        languages={"de": "native"},
        learning=("fr",),
        age_band="30-39",
    )
    b = resident(
        "b",
        ("sport.cycling", "music.choir"),
        occupation="23",
        languages={"fr": "native"},
        learning=("de",),
        age_band="30-39",
    )
    weights = rarity_weights([a, b], CODES, parent)
    assert 0.999 < score(a, b, weights) <= 1.0


def test_weights_come_from_the_union_in_any_order() -> None:
    rng = random.Random(7)
    side_a = [resident(f"a{i}", tuple(rng.sample(LEAVES, 3))) for i in range(30)]
    side_b = [resident(f"b{i}", tuple(rng.sample(LEAVES, 3))) for i in range(20)]
    union = rarity_weights(side_a + side_b, CODES, parent)
    shuffled = side_b + side_a
    rng.shuffle(shuffled)
    assert rarity_weights(shuffled, CODES, parent) == union
    assert rarity_weights(side_a, CODES, parent) != union
    assert union.population == 50


def test_rare_shared_interests_say_more() -> None:
    crowd = [resident(f"c{i}", ("sport.running",)) for i in range(40)]
    poets = [resident(f"p{i}", ("books.poetry",)) for i in range(2)]
    weights = rarity_weights(crowd + poets, CODES, parent)
    index = weights.index
    assert weights.weights[index["books.poetry"]] > weights.weights[index["sport.running"]]
    a = resident("a", ("sport.running", "books.poetry"))
    runner = resident("r", ("sport.running", "music.jazz"))
    poet = resident("q", ("books.poetry", "music.jazz"))
    assert score(a, poet, weights) > score(a, runner, weights)


def test_siblings_share_their_category_a_little() -> None:
    weights = rarity_weights([], CODES, parent)
    cyclist = resident("a", ("sport.cycling",))
    runner = resident("b", ("sport.running",))
    reader = resident("c", ("books.crime",))
    twin = resident("d", ("sport.cycling",))
    assert interest_units(cyclist, reader, weights) == 0
    assert 0 < interest_units(cyclist, runner, weights) < interest_units(cyclist, twin, weights)


def test_occupation_closeness() -> None:
    assert occupation_units("23", "23") == OCCUPATION_UNITS
    assert occupation_units("23", "24") == OCCUPATION_UNITS // 2
    assert occupation_units("2", "23") == OCCUPATION_UNITS // 2
    assert occupation_units("23", "51") == 0
    assert occupation_units(None, "23") == 0


def test_age_closeness() -> None:
    assert age_units(("30-39",), ("30-39",)) == AGE_UNITS
    assert age_units(("30-39",), ("40-49",)) == AGE_UNITS // 2
    assert age_units(("30-39",), ("60-69",)) == 0
    assert age_units((), ("60-69",)) == AGE_UNITS // 2
    assert age_units(("0-5", "12-17"), ("6-11",)) == AGE_UNITS // 2


def test_tandem_scores_higher_than_a_common_language() -> None:
    common = resident("a", languages={"en": "C1"}), resident("b", languages={"en": "B1"})
    tandem = (
        resident("c", languages={"de": "native"}, learning=("fr",)),
        resident("d", languages={"fr": "native"}, learning=("de",)),
    )
    assert language_units(*tandem) == LANGUAGE_UNITS > language_units(*common) > 0
    weights = rarity_weights([*common, *tandem], CODES, parent)
    assert score(*tandem, weights) > score(*common, weights)


@settings(max_examples=100, deadline=None)
@given(st.lists(profiles, min_size=2, max_size=8))
def test_cefr_and_coarse_levels_score_the_same(residents: list[InterestProfile]) -> None:
    """The wire carries coarse levels only; the gates and the score must not notice."""
    residents = [
        dataclasses.replace(r, id=f"https://example.test/p/{i}") for i, r in enumerate(residents)
    ]
    coarse = [dataclasses.replace(r, languages=coarse_languages(r.languages)) for r in residents]
    weights = rarity_weights(residents, CODES, parent)
    for i, a in enumerate(residents):
        for j, b in enumerate(residents):
            assert score_units(a, b, weights) == score_units(coarse[i], coarse[j], weights)
            assert language_gate(a, b) == language_gate(coarse[i], coarse[j])
    half = len(residents) // 2
    settings_ = MatchSettings()
    raw = match_pair(
        residents[:half], residents[half:], codes=CODES, parent=parent, settings=settings_
    )
    wire = match_pair(coarse[:half], coarse[half:], codes=CODES, parent=parent, settings=settings_)
    assert raw == wire


@settings(max_examples=100, deadline=None)
@given(st.lists(profiles, max_size=8))
def test_a_city_at_once_touches_what_each_resident_touches(
    residents: list[InterestProfile],
) -> None:
    """The rarity weights count a whole side in arrays; each resident must count for
    exactly the dimensions (and levels) the scalar reference gives it."""
    weights = rarity_weights(residents, CODES, parent)
    owner, dims, levels = touched_levels(residents, weights.index, weights.ancestors)
    for number, someone in enumerate(residents):
        mine = owner == number
        expected = touched_dimensions(someone.interests, weights.index, weights.ancestors)
        assert dict(zip(dims[mine].tolist(), levels[mine].tolist(), strict=True)) == expected
    for dim, weight in enumerate(weights.weights):
        holders = sum(
            dim in touched_dimensions(r.interests, weights.index, weights.ancestors)
            for r in residents
        )
        idf = 1.0 + math.log((1 + len(residents)) / (1 + holders))
        assert weight == round(WEIGHT_RESOLUTION * idf)
