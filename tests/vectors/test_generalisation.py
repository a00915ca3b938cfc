"""The incremental index publishes exactly what the reference generalisation would, and
names every resident whose vector a change touches."""

from __future__ import annotations

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

profiles = st.builds(
    lambda interests, occupation, band, spoken, learning: InterestProfile(
        id="x",
        kind="person",
        interests=tuple(sorted(set(interests))),
        occupation=occupation,
        languages=dict(spoken),
        learning=tuple(sorted(set(learning))),
        age_band=band,
    ),
    st.lists(st.sampled_from(INTERESTS), max_size=4),
    st.sampled_from([None, "23", "22", "51", "2", "71"]),
    st.sampled_from([None, "20-29", "30-39", "70-79"]),
    st.dictionaries(st.sampled_from(["de", "fr", "en", "ti"]), st.sampled_from(["B1", "native"])),
    st.lists(st.sampled_from(["de", "fr", "ko"]), max_size=2),
)
edits = st.lists(
    st.tuples(st.integers(min_value=0, max_value=11), st.none() | profiles), max_size=25
)


def reference(population: dict[int, InterestProfile], k: int) -> dict[int, InterestProfile]:
    ids = sorted(population)
    result = generalise([population[i] for i in ids], k, TAXONOMY, occupations=OCCUPATIONS)
    return dict(zip(ids, result, strict=True))


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=1, max_value=4), st.lists(profiles, max_size=10), edits)
def test_incremental_generalisation_equals_the_reference(
    k: int, start: list[InterestProfile], changes: list[tuple[int, InterestProfile | None]]
) -> None:
    population = dict(enumerate(start))
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
        changed = {i for i in expected if published.get(i) != expected[i]}
        changed |= set(published) - set(expected)
        assert changed <= affected
        published = expected
