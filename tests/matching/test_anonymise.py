"""k-anonymity by generalisation: examples first, then the properties that must always hold."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.anonymise import generalise
from matching.occupations import load_occupations
from matching.profile import CHILD_AGE_BANDS, KINDS, PERSON_AGE_BANDS, InterestProfile
from matching.taxonomy import load_taxonomy

TAXONOMY = load_taxonomy()
OCCUPATIONS = load_occupations()


def person(n: int, *interests: str, **fields: object) -> InterestProfile:
    return InterestProfile(
        id=f"https://oldenburg.example/p/{n}",
        kind="person",
        interests=tuple(sorted(interests)),
        **fields,  # type: ignore[arg-type]
    )


def run(profiles: list[InterestProfile], k: int) -> list[InterestProfile]:
    return generalise(profiles, k, TAXONOMY, occupations=OCCUPATIONS)


# --- examples -------------------------------------------------------------------------


def test_common_values_are_kept() -> None:
    profiles = [person(i, "sport.cycling", occupation="23", age_band="30-39") for i in range(5)]
    assert run(profiles, 5) == profiles


def test_rare_leaf_rolls_up_to_a_common_enough_parent() -> None:
    profiles = [person(i, "sport.football") for i in range(5)]
    profiles += [person(5, "sport.cycling"), person(6, "sport.sailing")] + [
        person(7 + i, "sport") for i in range(3)
    ]
    result = run(profiles, 5)
    assert [p.interests for p in result[:5]] == [("sport.football",)] * 5
    # cycling and sailing climb to "sport", which 5 profiles now hold.
    assert [p.interests for p in result[5:]] == [("sport",)] * 5


def test_rare_leaf_is_dropped_when_the_parent_stays_rare() -> None:
    profiles = [person(0, "sport.cycling", "food.wine")] + [
        person(i, "food.wine") for i in range(1, 5)
    ]
    result = run(profiles, 5)
    assert result[0].interests == ("food.wine",)


def test_rolled_up_values_are_deduplicated_and_counted_once_per_profile() -> None:
    # One profile holding three rare sports counts once for "sport", not three times.
    profiles = [person(0, "sport.cycling", "sport.sailing", "sport.rowing")] + [
        person(i, "sport") for i in range(1, 4)
    ]
    assert all(p.interests == () for p in run(profiles, 5))
    assert run(profiles, 4)[0].interests == ("sport",)


def test_unknown_interest_codes_fall_back_before_counting() -> None:
    profiles = [person(i, "sport.cycling") for i in range(4)] + [person(4, "sport.cycling.gravel")]
    assert [p.interests for p in run(profiles, 5)] == [("sport.cycling",)] * 5


def test_occupation_climbs_isco_then_disappears() -> None:
    profiles = [person(i, occupation="23") for i in range(3)]
    profiles += [person(3, occupation="24"), person(4, occupation="24"), person(5, occupation="25")]
    profiles += [person(6, occupation="52")]
    result = run(profiles, 3)
    # 24 and 25 are rare, climb to 2, and 2 is then held by three profiles.
    assert [p.occupation for p in result] == ["23", "23", "23", "2", "2", "2", None]
    result = run(profiles, 4)
    assert [p.occupation for p in result] == ["2"] * 6 + [None]
    # Holding "23" is not holding "2": only what is published counts.
    result = run(profiles[:5], 3)
    assert [p.occupation for p in result] == ["23", "23", "23", None, None]


def test_age_bands_have_no_parent_and_are_dropped() -> None:
    profiles = [person(i, age_band="30-39") for i in range(5)] + [person(5, age_band="80+")]
    result = run(profiles, 5)
    assert [p.age_band for p in result] == ["30-39"] * 5 + [None]


def test_children_age_bands_are_counted_per_band() -> None:
    families = [
        InterestProfile(id=f"f{i}", kind="family", children_age_bands=("0-5", "6-11"))
        for i in range(5)
    ] + [InterestProfile(id="f5", kind="family", children_age_bands=("6-11", "12-17"))]
    result = run(families, 5)
    assert [p.children_age_bands for p in result] == [("0-5", "6-11")] * 5 + [("6-11",)]


def test_rare_languages_are_dropped_not_generalised() -> None:
    profiles = [
        person(i, languages={"de": "native", "en": "B2"}, learning=("fr",)) for i in range(5)
    ]
    profiles.append(person(5, languages={"ti": "native", "de": "B1"}, learning=("ko", "fr")))
    result = run(profiles, 5)
    assert result[0].languages == {"de": "native", "en": "B2"}
    assert result[5].languages == {"de": "B1"}
    assert result[5].learning == ("fr",)


def test_speaking_and_learning_are_counted_separately() -> None:
    profiles = [person(i, languages={"fr": "native"}) for i in range(5)]
    profiles.append(person(5, languages={"de": "native"}, learning=("fr",)))
    assert run(profiles, 5)[5].learning == ()


def test_k_of_one_changes_nothing_but_order_and_duplicates() -> None:
    profile = InterestProfile(
        id="p",
        kind="person",
        interests=("sport.cycling", "food.wine", "sport.cycling"),
        languages={"fr": "B1", "de": "native"},
        learning=("it", "es"),
    )
    (result,) = run([profile], 1)
    assert result.interests == ("food.wine", "sport.cycling")
    assert list(result.languages) == ["de", "fr"]
    assert result.learning == ("es", "it")


def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError, match="k must be"):
        run([person(0)], 0)


def test_empty_population() -> None:
    assert run([], 5) == []


def test_default_occupations_are_the_shipped_ones() -> None:
    profiles = [person(i, occupation="23") for i in range(2)]
    assert [p.occupation for p in generalise(profiles, 2, TAXONOMY)] == ["23", "23"]
    assert [p.occupation for p in generalise(profiles, 3, TAXONOMY)] == [None, None]


# --- properties -----------------------------------------------------------------------

INTEREST_POOL = (
    "sport",
    "sport.cycling",
    "sport.sailing",
    "sport.football",
    "sport.handball",
    "music_making",
    "music_making.choir",
    "music_making.piano",
    "food.wine",
    "food.cheese",
    "games.chess",
    "sport.cycling.gravel",  # unknown leaf: falls back to sport.cycling
    "astrology",  # unknown: dropped
)
OCCUPATION_POOL = (None, "2", "23", "24", "25", "5", "52", "53", "0", "01")
LANGUAGE_POOL = ("de", "fr", "en", "es", "ti")
LEVELS = ("A2", "B1", "C1", "native")


@st.composite
def profiles_strategy(draw: st.DrawFn) -> list[InterestProfile]:
    count = draw(st.integers(min_value=0, max_value=16))
    result = []
    for i in range(count):
        result.append(
            InterestProfile(
                id=f"https://cholet.example/p/{i}",
                kind=draw(st.sampled_from(KINDS)),
                interests=tuple(draw(st.lists(st.sampled_from(INTEREST_POOL), max_size=6))),
                occupation=draw(st.sampled_from(OCCUPATION_POOL)),
                languages=draw(
                    st.dictionaries(st.sampled_from(LANGUAGE_POOL), st.sampled_from(LEVELS))
                ),
                learning=tuple(draw(st.lists(st.sampled_from(LANGUAGE_POOL), max_size=3))),
                age_band=draw(st.sampled_from((None, *PERSON_AGE_BANDS[:3]))),
                children_age_bands=tuple(
                    draw(st.lists(st.sampled_from(CHILD_AGE_BANDS), max_size=3, unique=True))
                ),
                updated=f"2026-01-{i % 28 + 1:02d}T12:00:00+00:00",
            )
        )
    return result


def _held(profile: InterestProfile) -> dict[str, set[str]]:
    return {
        "interests": set(profile.interests),
        "occupation": {profile.occupation} if profile.occupation else set(),
        "languages": set(profile.languages),
        "learning": set(profile.learning),
        "age_band": {profile.age_band} if profile.age_band else set(),
        "children": set(profile.children_age_bands),
    }


def _ancestors_or_self(code: str, parent: Callable[[str], str | None]) -> set[str]:
    result = {code}
    up = parent(code)
    while up is not None:
        result.add(up)
        up = parent(up)
    return result


def _known_interests(codes: Iterable[str]) -> set[str]:
    return {c for c in map(TAXONOMY.normalise, codes) if c is not None}


def _image(code: str, published: set[str], parent: Callable[[str], str | None]) -> str | None:
    """What ``code`` became: the nearest of itself and its ancestors that was published."""
    current: str | None = code
    while current is not None and current not in published:
        current = parent(current)
    return current


ks = st.integers(min_value=1, max_value=6)


@settings(max_examples=100, deadline=None)
@given(profiles_strategy(), ks)
def test_every_published_value_is_held_by_at_least_k_profiles(
    profiles: list[InterestProfile], k: int
) -> None:
    result = run(profiles, k)
    for field in ("interests", "occupation", "languages", "learning", "age_band", "children"):
        counts = Counter(value for p in result for value in _held(p)[field])
        assert all(count >= k for count in counts.values()), (field, counts)


@settings(max_examples=100, deadline=None)
@given(profiles_strategy(), ks)
def test_generalise_is_idempotent(profiles: list[InterestProfile], k: int) -> None:
    once = run(profiles, k)
    assert run(once, k) == once


@settings(max_examples=100, deadline=None)
@given(profiles_strategy(), ks)
def test_identity_and_order_are_kept(profiles: list[InterestProfile], k: int) -> None:
    result = run(profiles, k)
    assert [(p.id, p.kind, p.updated) for p in result] == [
        (p.id, p.kind, p.updated) for p in profiles
    ]


@settings(max_examples=100, deadline=None)
@given(profiles_strategy(), ks)
def test_values_are_only_replaced_by_their_parents_or_dropped(
    profiles: list[InterestProfile], k: int
) -> None:
    for before, after in zip(profiles, run(profiles, k), strict=True):
        allowed = set().union(
            *(_ancestors_or_self(c, TAXONOMY.parent) for c in _known_interests(before.interests))
        )
        assert set(after.interests) <= allowed
        assert list(after.interests) == sorted(set(after.interests))
        if after.occupation is not None:
            assert before.occupation is not None
            assert after.occupation in _ancestors_or_self(before.occupation, OCCUPATIONS.parent)
        assert after.age_band in (before.age_band, None)
        assert set(after.children_age_bands) <= set(before.children_age_bands)
        assert after.languages.items() <= before.languages.items()
        assert set(after.learning) <= set(before.learning)


@settings(max_examples=100, deadline=None)
@given(profiles_strategy(), ks, ks)
def test_a_larger_k_never_publishes_anything_more_specific(
    profiles: list[InterestProfile], k1: int, k2: int
) -> None:
    small, large = sorted((k1, k2))
    for before, loose, strict in zip(
        profiles, run(profiles, small), run(profiles, large), strict=True
    ):
        for code in _known_interests(before.interests):
            coarse = _image(code, set(strict.interests), TAXONOMY.parent)
            fine = _image(code, set(loose.interests), TAXONOMY.parent)
            if coarse is not None and fine is not None:
                assert coarse in _ancestors_or_self(fine, TAXONOMY.parent)
            if coarse == code and not TAXONOMY.children(code):
                # A leaf is published only when enough profiles hold it as such.
                assert fine == code
        if strict.occupation is not None and loose.occupation is not None:
            assert strict.occupation in _ancestors_or_self(loose.occupation, OCCUPATIONS.parent)
        if strict.age_band is not None:
            assert loose.age_band == strict.age_band
        assert set(strict.children_age_bands) <= set(loose.children_age_bands)
        assert set(strict.languages) <= set(loose.languages)
        assert set(strict.learning) <= set(loose.learning)


@settings(max_examples=100, deadline=None)
@given(profiles_strategy(), ks, st.randoms(use_true_random=False))
def test_result_does_not_depend_on_input_order(
    profiles: list[InterestProfile], k: int, rnd: object
) -> None:
    shuffled = list(profiles)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    by_id = {p.id: p for p in run(profiles, k)}
    assert {p.id: p for p in run(shuffled, k)} == by_id
