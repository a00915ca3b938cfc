"""The incremental index publishes exactly what the reference generalisation would (per
value and per combination, counted within each kind), and names every resident whose
published vector a change touches."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from matching.anonymise import generalise
from matching.occupations import load_occupations
from matching.profile import InterestProfile
from matching.taxonomy import load_taxonomy
from node.vectors._generalisation import Generaliser

TAXONOMY = load_taxonomy()
OCCUPATIONS = load_occupations()
INTERESTS = [
    "sport.cycling",
    "sport.running",
    "sport.rowing",
    "music_making.choir",
    "music_making.piano",
    "games.chess",
    "games",
    "literature.poetry",
]
LEVELS = ["A2", "B1", "C1", "native", "fluent", "basic"]


def _profile(
    kind: str,
    interests: list[str],
    occupation: str | None,
    band: str | None,
    spoken: dict[str, str],
    learning: list[str],
) -> InterestProfile:
    return InterestProfile(
        id="x",
        kind=kind,  # type: ignore[arg-type]
        interests=tuple(sorted(set(interests))),
        occupation=occupation,
        languages=dict(spoken),
        learning=tuple(sorted(set(learning))),
        age_band=band if kind in ("person", "school_class") else None,
        children_age_bands=("0-5",) if kind == "family" else (),
    )


profiles = st.builds(
    _profile,
    st.sampled_from(["person", "person", "family"]),
    st.lists(st.sampled_from(INTERESTS), max_size=4),
    st.sampled_from([None, "23", "22", "51", "2", "71"]),
    st.sampled_from([None, "20-29", "30-39", "70-79"]),
    st.dictionaries(st.sampled_from(["de", "fr", "en", "ti"]), st.sampled_from(LEVELS)),
    st.lists(st.sampled_from(["de", "fr", "ko"]), max_size=2),
)
edits = st.lists(
    st.tuples(st.integers(min_value=0, max_value=11), st.none() | profiles), max_size=25
)


def reference(population: dict[int, InterestProfile], k: int) -> dict[int, InterestProfile | None]:
    ids = sorted(population)
    result = generalise([population[i] for i in ids], k, TAXONOMY, occupations=OCCUPATIONS)
    return dict(zip(ids, result, strict=True))


def check_edits(
    k: int,
    population: dict[int, InterestProfile],
    changes: list[tuple[int, InterestProfile | None]],
) -> None:
    index = Generaliser(k, TAXONOMY, OCCUPATIONS)
    index.load(population.items())
    published = reference(population, k)
    assert {i: index.generalised(i) for i in population} == published
    for resident, profile in changes:
        affected = index.update(resident, profile)
        if profile is None:
            population.pop(resident, None)
        else:
            population[resident] = profile
        expected = reference(population, k)
        assert {i: index.generalised(i) for i in population} == expected
        # Everybody whose published vector changed (appeared, moved, was withheld or
        # left) is named, so that the publication republishes them.
        changed = {i for i in expected if published.get(i) != expected[i]}
        changed |= set(published) - set(expected)
        assert changed <= affected, changed - affected
        published = expected
    fresh = Generaliser(k, TAXONOMY, OCCUPATIONS)
    fresh.load(population.items())
    assert {i: fresh.generalised(i) for i in population} == published


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=1, max_value=4), st.lists(profiles, max_size=10), edits)
def test_incremental_generalisation_equals_the_reference(
    k: int, start: list[InterestProfile], changes: list[tuple[int, InterestProfile | None]]
) -> None:
    check_edits(k, dict(enumerate(start)), changes)


def _random_profile(rng: random.Random) -> InterestProfile:
    """Few distinct values, so that classes of several residents form and break."""
    kind = rng.choice(["person", "person", "person", "family", "club"])
    return _profile(
        kind,
        rng.sample(INTERESTS, rng.randint(0, 3)),
        rng.choice([None, "23", "24", "22", "51", "52", "2"]),
        rng.choice([None, "20-29", "30-39", "40-49"]),
        {code: rng.choice(LEVELS) for code in rng.sample(["de", "fr", "en"], rng.randint(0, 2))},
        rng.sample(["de", "fr", "ko"], rng.randint(0, 1)),
    )


def test_random_populations_with_edits_and_removals_match_a_full_recompute() -> None:
    rng = random.Random(11)
    for k in (2, 3, 5):
        population = {i: _random_profile(rng) for i in range(60)}
        changes: list[tuple[int, InterestProfile | None]] = [
            (rng.randrange(70), None if rng.random() < 0.2 else _random_profile(rng))
            for _ in range(40)
        ]
        check_edits(k, population, changes)


def test_a_rare_combination_climbs_until_shared() -> None:
    def person(occupation: str, band: str, languages: dict[str, str]) -> InterestProfile:
        return _profile("person", ["sport.cycling"], occupation, band, languages, [])

    de, de_en = {"de": "native"}, {"de": "native", "en": "B2"}
    population = {
        0: person("23", "30-39", de),
        1: person("23", "30-39", de),
        2: person("23", "40-49", de_en),
        3: person("23", "40-49", de_en),
        # Every value of these two is held by three, but neither combination by two.
        4: person("23", "40-49", de),
        5: person("23", "30-39", de_en),
    }
    index = Generaliser(2, TAXONOMY, OCCUPATIONS)
    index.load(population.items())
    assert index.generalised(2) == index.generalised(3)
    assert index.generalised(2).languages == {"de": "native", "en": "fluent"}  # type: ignore[union-attr]
    # Occupation to its major group, band dropped, then English (the weaker level) goes:
    # there 4 and 5 meet.
    for resident in (4, 5):
        published = index.generalised(resident)
        assert published is not None
        assert (published.occupation, published.age_band, published.languages) == (
            "2",
            None,
            {"de": "native"},
        )
    assert index.withheld() == []
    assert reference(population, 2) == {i: index.generalised(i) for i in population}
    # With k = 3 no pair is enough: 0, 1, 4 meet with German, 2, 3, 5 with both.
    strict = Generaliser(3, TAXONOMY, OCCUPATIONS)
    strict.load(population.items())
    published = [strict.generalised(i) for i in population]
    assert {(p.occupation, p.age_band) for p in published if p} == {("2", None)}
    assert [p.languages if p else None for p in published] == [
        {"de": "native"},
        {"de": "native"},
        {"de": "native", "en": "fluent"},
        {"de": "native", "en": "fluent"},
        {"de": "native"},
        {"de": "native", "en": "fluent"},
    ]


def test_values_are_counted_within_the_kind() -> None:
    clubs = {
        i: _profile("club", ["sport.rowing"], None, None, {"de": "native"}, []) for i in range(3)
    }
    rower = _profile("person", ["sport.rowing"], None, "30-39", {"de": "native"}, [])
    people = {
        10 + i: _profile("person", ["sport.cycling"], None, "30-39", {"de": "native"}, [])
        for i in range(3)
    }
    index = Generaliser(3, TAXONOMY, OCCUPATIONS)
    index.load({**clubs, **people, 20: rower}.items())
    assert index.generalised(0).interests == ("sport.rowing",)  # type: ignore[union-attr]
    # Three clubs row; among persons the rower is alone and climbs to "sport".
    assert index.generalised(20).interests == ()  # type: ignore[union-attr]
    sailing = _profile("person", ["sport.sailing"], None, "30-39", {"de": "native"}, [])
    climbing = _profile("person", ["sport.climbing"], None, "30-39", {"de": "native"}, [])
    index.update(13, sailing)
    assert index.update(14, climbing) >= {13, 14, 20}
    assert index.generalised(20).interests == ("sport",)  # type: ignore[union-attr]


def test_a_resident_alone_in_their_kind_is_withheld() -> None:
    population = {
        **{i: _profile("person", [], None, "30-39", {"de": "native"}, []) for i in range(3)},
        3: _profile("school_class", ["games.chess"], None, "grades-5-6", {"de": "native"}, []),
    }
    index = Generaliser(3, TAXONOMY, OCCUPATIONS)
    index.load(population.items())
    assert index.generalised(3) is None
    assert index.withheld() == [3]
    assert reference(population, 3)[3] is None
    # Two more classes: now all three are published, and all three are named.
    more = {4: population[3], 5: population[3]}
    affected = index.update(4, more[4])
    assert affected == {4}  # still only two classes
    assert index.update(5, more[5]) >= {3, 4, 5}
    assert index.withheld() == []
