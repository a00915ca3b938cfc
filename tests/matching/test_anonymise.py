"""k-anonymity by generalisation: examples first, then the properties that must always hold."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.anonymise import combination_of, generalise
from matching.languages import coarse_languages, coarse_rank
from matching.occupations import load_occupations
from matching.profile import (
    CHILD_AGE_BANDS,
    KINDS,
    LANGUAGE_LEVELS,
    PERSON_AGE_BANDS,
    InterestProfile,
)
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


def run(profiles: list[InterestProfile], k: int) -> list[InterestProfile | None]:
    return generalise(profiles, k, TAXONOMY, occupations=OCCUPATIONS)


def published(profiles: list[InterestProfile], k: int) -> list[InterestProfile]:
    """The result when nobody is withheld (asserted)."""
    result = run(profiles, k)
    assert all(p is not None for p in result), "a resident was withheld"
    return [p for p in result if p is not None]


def fillers(count: int, start: int = 100) -> list[InterestProfile]:
    """Residents with no occupation, band or language: they make the empty combination
    common, so that an example's resident who ends there is published, not withheld."""
    return [person(start + i) for i in range(count)]


# --- examples -------------------------------------------------------------------------


def test_common_values_are_kept() -> None:
    profiles = [
        person(i, "sport.cycling", occupation="23", age_band="30-39", languages={"de": "native"})
        for i in range(5)
    ]
    assert published(profiles, 5) == profiles


def test_rare_leaf_rolls_up_to_a_common_enough_parent() -> None:
    profiles = [person(i, "sport.football") for i in range(5)]
    profiles += [person(5, "sport.cycling"), person(6, "sport.sailing")] + [
        person(7 + i, "sport") for i in range(3)
    ]
    result = published(profiles, 5)
    assert [p.interests for p in result[:5]] == [("sport.football",)] * 5
    # cycling and sailing climb to "sport", which 5 profiles now hold.
    assert [p.interests for p in result[5:]] == [("sport",)] * 5


def test_rare_leaf_is_dropped_when_the_parent_stays_rare() -> None:
    profiles = [person(0, "sport.cycling", "food.wine")] + [
        person(i, "food.wine") for i in range(1, 5)
    ]
    result = published(profiles, 5)
    assert result[0].interests == ("food.wine",)


def test_rolled_up_values_are_deduplicated_and_counted_once_per_profile() -> None:
    # One profile holding three rare sports counts once for "sport", not three times.
    profiles = [person(0, "sport.cycling", "sport.sailing", "sport.rowing")] + [
        person(i, "sport") for i in range(1, 4)
    ]
    profiles += fillers(1)
    assert all(p.interests == () for p in published(profiles, 5))
    assert published(profiles, 4)[0].interests == ("sport",)


def test_unknown_interest_codes_fall_back_before_counting() -> None:
    profiles = [person(i, "sport.cycling") for i in range(4)] + [person(4, "sport.cycling.gravel")]
    assert [p.interests for p in published(profiles, 5)] == [("sport.cycling",)] * 5


def test_occupation_climbs_isco_then_disappears() -> None:
    profiles = [person(i, occupation="23") for i in range(3)]
    profiles += [person(3, occupation="24"), person(4, occupation="24"), person(5, occupation="25")]
    profiles += [person(6, occupation="52")]
    result = published(profiles + fillers(3), 3)
    # 24 and 25 are rare, climb to 2, and 2 is then held by three profiles.
    assert [p.occupation for p in result[:7]] == ["23", "23", "23", "2", "2", "2", None]
    result = published(profiles + fillers(3), 4)
    assert [p.occupation for p in result[:7]] == ["2"] * 6 + [None]
    # Holding "23" is not holding "2": only what is published counts.
    result = published(profiles[:5] + fillers(3), 3)
    assert [p.occupation for p in result[:5]] == ["23", "23", "23", None, None]


def test_age_bands_have_no_parent_and_are_dropped() -> None:
    profiles = [person(i, age_band="30-39") for i in range(5)] + [person(5, age_band="80+")]
    result = published(profiles + fillers(4), 5)
    assert [p.age_band for p in result[:6]] == ["30-39"] * 5 + [None]


def test_children_age_bands_are_counted_per_band() -> None:
    families = [
        InterestProfile(id=f"f{i}", kind="family", children_age_bands=("0-5", "6-11"))
        for i in range(5)
    ] + [InterestProfile(id="f5", kind="family", children_age_bands=("6-11", "12-17"))]
    result = published(families, 5)
    assert [p.children_age_bands for p in result] == [("0-5", "6-11")] * 5 + [("6-11",)]


def test_languages_leave_with_coarse_levels() -> None:
    profiles = [person(i, languages={"de": "native", "en": "B2", "fr": "A2"}) for i in range(5)]
    assert {tuple(p.languages.items()) for p in published(profiles, 5)} == {
        (("de", "native"), ("en", "fluent"), ("fr", "basic"))
    }


def test_a_rare_level_climbs_native_fluent_basic() -> None:
    profiles = [person(i, languages={"de": "B2"}) for i in range(3)]
    profiles += [person(3, languages={"de": "native"}), person(4, languages={"de": "C1"})]
    profiles += [person(5 + i, languages={"de": "A1"}) for i in range(5)]
    profiles += [person(10, languages={"de": "native"})]
    result = published(profiles, 5)
    # Two native speakers are too few: they are published as fluent, with four others.
    assert [p.languages for p in result[:5]] == [{"de": "fluent"}] * 5
    assert [p.languages for p in result[10:]] == [{"de": "fluent"}]
    assert [p.languages for p in result[5:10]] == [{"de": "basic"}] * 5
    # With k = 7 six fluent speakers are too few as well: everyone is published as basic.
    assert {tuple(p.languages.items()) for p in published(profiles, 7)} == {(("de", "basic"),)}


def test_rare_languages_are_dropped() -> None:
    profiles = [person(i, languages={"de": "native"}, learning=("fr",)) for i in range(5)]
    profiles.append(person(5, languages={"ti": "native", "de": "native"}, learning=("ko", "fr")))
    result = published(profiles, 5)
    assert result[5].languages == {"de": "native"}
    assert result[5].learning == ("fr",)


def test_speaking_and_learning_are_counted_separately() -> None:
    profiles = [person(i, languages={"fr": "native"}) for i in range(5)]
    profiles.append(person(5, languages={"de": "native"}, learning=("fr",)))
    assert published(profiles + fillers(4), 5)[5].learning == ()


def test_values_are_counted_within_the_kind() -> None:
    clubs = [
        InterestProfile(id=f"c{i}", kind="club", interests=("sport.rowing",)) for i in range(5)
    ]
    people = [person(i, "sport.cycling") for i in range(5)] + [person(5, "sport.rowing")]
    result = published(clubs + people, 5)
    assert result[0].interests == ("sport.rowing",)
    assert result[-1].interests == ()  # five clubs do not hide one person


def test_a_rare_combination_is_generalised_in_the_fixed_order() -> None:
    de, de_en = {"de": "native"}, {"de": "native", "en": "B2"}
    profiles = [
        person(0, occupation="23", age_band="30-39", languages=de),
        person(1, occupation="23", age_band="30-39", languages=de),
        person(2, occupation="23", age_band="40-49", languages=de_en),
        person(3, occupation="23", age_band="40-49", languages=de_en),
        # Each value is held by three, but neither combination by two:
        person(4, occupation="23", age_band="40-49", languages=de),
        person(5, occupation="23", age_band="30-39", languages=de_en),
    ]
    result = published(profiles, 2)
    assert [(p.occupation, p.age_band, p.languages) for p in result] == [
        ("23", "30-39", {"de": "native"}),
        ("23", "30-39", {"de": "native"}),
        ("23", "40-49", {"de": "native", "en": "fluent"}),
        ("23", "40-49", {"de": "native", "en": "fluent"}),
        # major group, band dropped, then the weakest language: there the two meet.
        ("2", None, {"de": "native"}),
        ("2", None, {"de": "native"}),
    ]


def test_the_occupation_goes_after_the_languages() -> None:
    profiles = [person(i, occupation="23", languages={"de": "native"}) for i in range(2)]
    profiles.append(person(2, occupation="23", languages={"fr": "native"}))
    profiles.append(person(3, occupation="51", languages={"fr": "native"}))
    result = published(profiles, 2)
    # 2 and 3 lose French first (no pair shares it), then 3 its occupation: 2 and 3 are
    # ("2", no languages) and (no occupation, no languages): still apart, so both climb
    # to the empty combination and meet there.
    assert [(p.occupation, p.languages) for p in result] == [
        ("23", {"de": "native"}),
        ("23", {"de": "native"}),
        (None, {}),
        (None, {}),
    ]


def test_a_resident_rare_even_with_nothing_left_is_withheld() -> None:
    profiles = [person(i, occupation="23", languages={"de": "native"}) for i in range(5)]
    profiles.append(person(5, occupation="51", languages={"ti": "native"}))
    result = run(profiles, 5)
    assert result[5] is None
    assert all(p is not None and p.occupation == "23" for p in result[:5])
    # A kind with fewer than k residents is withheld altogether.
    assert run([InterestProfile(id="c", kind="club")] * 4, 5) == [None] * 4


def test_k_of_one_changes_nothing_but_order_and_duplicates() -> None:
    profile = InterestProfile(
        id="p",
        kind="person",
        interests=("sport.cycling", "food.wine", "sport.cycling"),
        languages={"fr": "B1", "de": "native"},
        learning=("it", "es"),
    )
    (result,) = published([profile], 1)
    assert result.interests == ("food.wine", "sport.cycling")
    assert result.languages == {"de": "native", "fr": "fluent"}
    assert result.learning == ("es", "it")


def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError, match="k must be"):
        run([person(0)], 0)


def test_empty_population() -> None:
    assert run([], 5) == []


def test_default_occupations_are_the_shipped_ones() -> None:
    profiles = [person(i, occupation="23") for i in range(2)]
    assert [p and p.occupation for p in generalise(profiles, 2, TAXONOMY)] == ["23", "23"]
    assert generalise(profiles, 3, TAXONOMY) == [None, None]


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
LEVELS = ("A2", "B1", "C1", "native", "fluent", "basic")


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


def _held(profile: InterestProfile) -> dict[str, set[object]]:
    return {
        "interests": set(profile.interests),
        "occupation": {profile.occupation} if profile.occupation else set(),
        "languages": set(profile.languages.items()),
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


def _pairs(
    result: list[InterestProfile | None], profiles: list[InterestProfile]
) -> list[tuple[InterestProfile, InterestProfile]]:
    return [(before, after) for before, after in zip(profiles, result, strict=True) if after]


ks = st.integers(min_value=1, max_value=6)


@settings(max_examples=100, deadline=None)
@given(profiles_strategy(), ks)
def test_every_published_value_and_combination_is_held_by_k_of_the_kind(
    profiles: list[InterestProfile], k: int
) -> None:
    everyone = run(profiles, k)
    result = [p for p in everyone if p is not None]
    for kind in KINDS:
        same = [p for p in result if p.kind == kind]
        withheld = sum(
            1 for b, a in zip(profiles, everyone, strict=True) if b.kind == kind and not a
        )
        for field in ("occupation", "languages", "age_band"):
            counts = Counter(value for p in same for value in _held(p)[field])
            assert all(count >= k for count in counts.values()), (kind, field, counts)
        # Fields outside the combination are counted before anyone is withheld.
        for field in ("interests", "learning", "children"):
            counts = Counter(value for p in same for value in _held(p)[field])
            assert all(count + withheld >= k for count in counts.values()), (kind, field)
        combinations = Counter(combination_of(p) for p in same)
        assert all(count >= k for count in combinations.values()), (kind, combinations)
    assert all(set(p.languages.values()) <= set(LANGUAGE_LEVELS) for p in result)


@settings(max_examples=100, deadline=None)
@given(profiles_strategy(), ks)
def test_generalise_is_idempotent(profiles: list[InterestProfile], k: int) -> None:
    """When nobody is withheld. A withheld resident's values count like everybody's
    (the peer cannot tell who is withheld), so leaving them out may change counts."""
    once = run(profiles, k)
    if all(p is not None for p in once):
        assert run([p for p in once if p], k) == once


@settings(max_examples=100, deadline=None)
@given(profiles_strategy(), ks)
def test_identity_and_order_are_kept(profiles: list[InterestProfile], k: int) -> None:
    result = run(profiles, k)
    assert len(result) == len(profiles)
    for before, after in _pairs(result, profiles):
        assert (after.id, after.kind, after.updated) == (before.id, before.kind, before.updated)


@settings(max_examples=100, deadline=None)
@given(profiles_strategy(), ks)
def test_values_are_only_replaced_by_their_parents_or_dropped(
    profiles: list[InterestProfile], k: int
) -> None:
    for before, after in _pairs(run(profiles, k), profiles):
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
        given_levels = coarse_languages(before.languages)
        for code, level in after.languages.items():
            assert coarse_rank(level) <= coarse_rank(given_levels[code])
        assert set(after.learning) <= set(before.learning)


@settings(max_examples=100, deadline=None)
@given(profiles_strategy(), ks, ks)
def test_a_larger_k_never_publishes_a_value_more_specific(
    profiles: list[InterestProfile], k1: int, k2: int
) -> None:
    """For the fields outside the combination. Inside it, a larger k can let a class
    form that a smaller k did not (values climbed per value meet), so no such rule."""
    small, large = sorted((k1, k2))
    for before, loose, strict in zip(
        profiles, run(profiles, small), run(profiles, large), strict=True
    ):
        if loose is None or strict is None:
            continue
        for code in _known_interests(before.interests):
            coarse = _image(code, set(strict.interests), TAXONOMY.parent)
            fine = _image(code, set(loose.interests), TAXONOMY.parent)
            if coarse is not None and fine is not None:
                assert coarse in _ancestors_or_self(fine, TAXONOMY.parent)
            if coarse == code and not TAXONOMY.children(code):
                # A leaf is published only when enough profiles hold it as such.
                assert fine == code
        assert set(strict.children_age_bands) <= set(loose.children_age_bands)
        assert set(strict.learning) <= set(loose.learning)


@settings(max_examples=100, deadline=None)
@given(profiles_strategy(), ks, st.randoms(use_true_random=False))
def test_result_does_not_depend_on_input_order(
    profiles: list[InterestProfile], k: int, rnd: object
) -> None:
    shuffled = list(profiles)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    by_id = {p.id: r for p, r in zip(profiles, run(profiles, k), strict=True)}
    assert {p.id: r for p, r in zip(shuffled, run(shuffled, k), strict=True)} == by_id
