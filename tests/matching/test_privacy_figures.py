"""The privacy figures: class sizes, rare values and the generalised share, counted from
raw and published vectors."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from matching.anonymise import generalise
from matching.occupations import load_occupations
from matching.privacy import RareValue, privacy_figures
from matching.profile import InterestProfile
from matching.taxonomy import load_taxonomy

TAXONOMY = load_taxonomy()
OCCUPATIONS = load_occupations()


def person(n: int, occupation: str | None, band: str | None, **fields: object) -> InterestProfile:
    return InterestProfile(
        id=f"p{n}",
        kind="person",
        occupation=occupation,
        age_band=band,
        **fields,  # type: ignore[arg-type]
    )


def test_raw_vectors_show_what_generalisation_prevents() -> None:
    raw = {
        "a": person(0, "23", "30-39", languages={"de": "native"}),
        "b": person(1, "23", "30-39", languages={"de": "native"}),
        "c": person(2, "23", "30-39", languages={"de": "C1"}, interests=("games.chess",)),
    }
    # Published as given (as if k were 1): c is alone by combination and by vector.
    figures = privacy_figures(raw, raw, 2)
    assert (figures.residents, figures.published, figures.withheld) == (3, 3, 0)
    assert figures.combination_classes == {1: 1, 2: 2}
    assert figures.vector_classes == {1: 1, 2: 2}
    assert figures.below_k_by_combination == 1
    assert figures.unique_vectors == 1
    assert RareValue("person", "languages", "de:C1", 1) in figures.rare_values
    assert RareValue("person", "interests", "games.chess", 1) in figures.rare_values
    # Compared with the coarse vector the resident's levels give: C1 is "fluent" either
    # way, so nothing counts as generalised.
    assert figures.generalised == 0
    assert figures.generalised_share == 0.0


def test_withheld_residents_are_counted() -> None:
    raw = {str(i): person(i, "23", "30-39", languages={"de": "native"}) for i in range(3)}
    published = {key: raw[key] for key in ("0", "1")}
    figures = privacy_figures(raw, published, 2)
    assert (figures.published, figures.withheld, figures.generalised) == (2, 1, 0)
    assert figures.rare_values == ()


def test_empty() -> None:
    figures = privacy_figures({}, {}, 5)
    assert figures.generalised_share == 0.0
    assert figures.combination_classes == {} == figures.vector_classes


profiles = st.builds(
    lambda n, occupation, band, de, chess: person(
        n,
        occupation,
        band,
        languages={"de": de},
        interests=("games.chess",) if chess else ("sport.cycling",),
    ),
    st.integers(0, 10**6),
    st.sampled_from([None, "23", "24", "51"]),
    st.sampled_from([None, "30-39", "40-49"]),
    st.sampled_from(["A2", "B2", "native"]),
    st.booleans(),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(profiles, max_size=25), st.integers(1, 4))
def test_what_generalise_publishes_has_no_class_below_k(
    residents: list[InterestProfile], k: int
) -> None:
    raw = {str(i): p for i, p in enumerate(residents)}
    result = generalise(list(raw.values()), k, TAXONOMY, occupations=OCCUPATIONS)
    published = {key: p for key, p in zip(raw, result, strict=True) if p is not None}
    figures = privacy_figures(raw, published, k)
    assert figures.below_k_by_combination == 0
    assert all(size >= k for size in figures.combination_classes)
    assert figures.published + figures.withheld == len(raw)
    assert sum(figures.combination_classes.values()) == figures.published
    assert sum(figures.vector_classes.values()) == figures.published
