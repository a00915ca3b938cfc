"""Explanations of a suggestion, in the viewer's language, from the two shared vectors only."""

from __future__ import annotations

import dataclasses

import pytest

from matching.explain import Explanation, explain
from matching.languages import load_languages
from matching.occupations import load_occupations
from matching.profile import InterestProfile
from matching.taxonomy import load_taxonomy

VOCABULARY = {
    "taxonomy": load_taxonomy(),
    "occupations": load_occupations(),
    "languages": load_languages(),
}

ANNA = InterestProfile(
    id="https://meinzwilling.oldenburg.example/p/anna",
    kind="person",
    interests=("food.wine", "music_making.choir", "sport.cycling"),
    occupation="23",
    languages={"de": "native", "en": "B2", "fr": "A2"},
    learning=("fr",),
    age_band="30-39",
)
CLAIRE = InterestProfile(
    id="https://monjumeau.cholet.example/p/claire",
    kind="person",
    interests=("food.cheese", "music_making.choir", "sport.cycling"),
    occupation="23",
    languages={"fr": "native", "en": "C1", "de": "A1"},
    learning=("de",),
    age_band="40-49",
)


def test_english() -> None:
    assert explain(ANNA, CLAIRE, "en", **VOCABULARY) == Explanation(
        shared_interests=("choir", "cycling"),
        shared_categories=("food & cooking",),
        common_languages=("English",),
        tandems=(("German", "French"),),
        occupation="Teaching professionals",
        text="You both: choir, cycling · related interests: food & cooking · you speak: English"
        " · tandem: German ⇄ French · same field: Teaching professionals",
    )


def test_german() -> None:
    assert explain(ANNA, CLAIRE, "de", **VOCABULARY).text == (
        "Sie beide: Chor, Radfahren · verwandte Interessen: Essen & Kochen"
        " · gemeinsame Sprache: Englisch · Tandem: Deutsch ⇄ Französisch"
        " · gleiches Berufsfeld: Lehrkräfte"
    )


def test_french_with_french_typography() -> None:
    explanation = explain(CLAIRE, ANNA, "fr", **VOCABULARY)
    assert explanation.text == (
        "Vous deux\u202f: chorale, vélo · centres d'intérêt proches\u202f: cuisine & gastronomie"
        " · langue commune\u202f: anglais · tandem\u202f: français ⇄ allemand"
        " · même domaine\u202f: Spécialistes de l'enseignement"
    )
    # From Claire's side the tandem reads the other way round: she offers French.
    assert explanation.tandems == (("français", "allemand"),)


def test_unsupported_language_falls_back_to_english() -> None:
    assert explain(ANNA, CLAIRE, "nl", **VOCABULARY) == explain(ANNA, CLAIRE, "en", **VOCABULARY)


def test_nothing_in_common_is_said_honestly() -> None:
    a = InterestProfile(id="a", kind="person", interests=("sport.cycling",))
    b = InterestProfile(id="b", kind="person", interests=("games.chess",))
    texts = {lang: explain(a, b, lang, **VOCABULARY).text for lang in ("en", "de", "fr")}
    assert texts == {
        "en": "Nothing in common on paper yet.",
        "de": "Auf dem Papier noch nichts gemeinsam.",
        "fr": "Rien en commun sur le papier pour l'instant.",
    }
    empty = explain(a, b, "en", **VOCABULARY)
    assert empty.shared_interests == empty.shared_categories == empty.common_languages == ()
    assert empty.tandems == ()
    assert empty.occupation is None


def test_empty_parts_are_left_out_and_the_first_is_capitalised() -> None:
    a = InterestProfile(id="a", kind="person", languages={"en": "B1", "es": "C2"})
    b = InterestProfile(id="b", kind="person", languages={"en": "native", "es": "B2"})
    assert explain(a, b, "en", **VOCABULARY).text == "You speak: English, Spanish"
    assert explain(a, b, "de", **VOCABULARY).text == "Gemeinsame Sprachen: Englisch, Spanisch"
    assert explain(a, b, "fr", **VOCABULARY).text == "Langues communes\u202f: anglais, espagnol"


def test_languages_below_b1_are_not_common() -> None:
    a = InterestProfile(id="a", kind="person", languages={"fr": "A2", "en": "B1"})
    b = InterestProfile(id="b", kind="person", languages={"fr": "native", "en": "A2"})
    assert explain(a, b, "en", **VOCABULARY).common_languages == ()


def test_a_tandem_needs_both_halves() -> None:
    a = InterestProfile(id="a", kind="person", languages={"de": "native"}, learning=("fr",))
    b = InterestProfile(id="b", kind="person", languages={"fr": "native"}, learning=("es",))
    assert explain(a, b, "en", **VOCABULARY).tandems == ()


def test_occupation_is_the_most_specific_shared_group() -> None:
    a = InterestProfile(id="a", kind="person", occupation="23")
    assert explain(a, dataclasses.replace(a, occupation="24"), "en", **VOCABULARY).text == (
        "Same field: Professionals"
    )
    assert explain(a, dataclasses.replace(a, occupation="2"), "de", **VOCABULARY).occupation == (
        "Akademische Berufe"
    )
    assert (
        explain(a, dataclasses.replace(a, occupation="52"), "en", **VOCABULARY).occupation is None
    )
    assert (
        explain(a, dataclasses.replace(a, occupation=None), "en", **VOCABULARY).occupation is None
    )


def test_shared_categories_only_where_no_interest_is_shared() -> None:
    a = InterestProfile(
        id="a", kind="person", interests=("music_making.piano", "sport", "food.wine")
    )
    b = InterestProfile(
        id="b", kind="person", interests=("music_making.guitar", "sport.cycling", "food.wine")
    )
    explanation = explain(a, b, "en", **VOCABULARY)
    assert explanation.shared_interests == ("wine",)
    # A generalised "sport" and "sport.cycling" meet in their category, like piano and guitar.
    assert explanation.shared_categories == ("making music", "sport")
    assert explanation.text == "You both: wine · related interests: making music, sport"


def test_codes_the_node_does_not_know_are_skipped() -> None:
    a = InterestProfile(id="a", kind="person", interests=("sport.cycling.gravel", "astrology"))
    b = InterestProfile(id="b", kind="person", interests=("sport.cycling", "astrology"))
    assert explain(a, b, "en", **VOCABULARY).shared_interests == ("cycling",)


def test_both_sides_see_the_same_reasons() -> None:
    there = explain(ANNA, CLAIRE, "en", **VOCABULARY)
    back = explain(CLAIRE, ANNA, "en", **VOCABULARY)
    assert there.shared_interests == back.shared_interests
    assert there.shared_categories == back.shared_categories
    assert there.common_languages == back.common_languages
    assert there.occupation == back.occupation
    assert there.tandems == tuple((y, x) for x, y in back.tandems)


def test_explanation_is_immutable() -> None:
    explanation = explain(ANNA, CLAIRE, "en", **VOCABULARY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        explanation.text = "changed"  # type: ignore[misc]
