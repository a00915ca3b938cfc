"""The shared vocabularies: interest taxonomy, ISCO-08 groups, languages and CEFR levels."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from importlib.resources import files

import pytest

from matching.languages import (
    CEFR_ORDER,
    cefr_rank,
    coarse_languages,
    coarse_level,
    coarse_rank,
    level_at_least,
    load_languages,
    stronger_level,
)
from matching.occupations import load_occupations
from matching.profile import CEFR_LEVELS, LANGUAGE_LEVELS
from matching.taxonomy import (
    LABEL_LANGUAGES,
    Taxonomy,
    VocabularyError,
    load_taxonomy,
    taxonomy_from_document,
)

BANNED = re.compile(
    r"relig|church|kirch|église|eglise|mosque|moschee|mosquée|synagog|bibl|koran|coran"
    r"|prayer|gebet|prière|spiritu|politi|partei|election|wahl|health|gesundheit|santé"
    r"|therap|krank|malad|disab|behinder|handicap|sexual|sexuel|lgbt|queer|ethni|race|rasse"
    r"|gewerkschaft|syndica|trade union",
    re.IGNORECASE,
)


def _pairs_without_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [key for key, _ in pairs]
    assert len(keys) == len(set(keys)), f"duplicate keys: {keys}"
    return dict(pairs)


# --- taxonomy -------------------------------------------------------------------------


def test_taxonomy_is_versioned_and_cached() -> None:
    taxonomy = load_taxonomy()
    assert taxonomy.version == "2026.1"
    assert load_taxonomy() is taxonomy


def test_taxonomy_has_enough_categories_and_interests() -> None:
    taxonomy = load_taxonomy()
    assert 15 <= len(taxonomy.categories) <= 20
    assert len(taxonomy.interests) >= 150
    assert len(taxonomy.codes) == len(taxonomy.categories) + len(taxonomy.interests)
    for category in taxonomy.categories:
        assert len(taxonomy.children(category)) >= 8, category


def test_codes_are_sorted_unique_and_well_formed() -> None:
    taxonomy = load_taxonomy()
    assert list(taxonomy.codes) == sorted(set(taxonomy.codes))
    for code in taxonomy.codes:
        assert re.fullmatch(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?", code), code
        assert len(code) <= 64


def test_data_file_has_no_duplicate_keys() -> None:
    text = (files("matching.data") / "taxonomy.json").read_text(encoding="utf-8")
    json.loads(text, object_pairs_hook=_pairs_without_duplicates)


def test_every_code_has_all_labels_and_a_known_parent() -> None:
    taxonomy = load_taxonomy()
    for code in taxonomy.codes:
        for lang in LABEL_LANGUAGES:
            label = taxonomy.label(code, lang)
            assert label.strip() == label and label, (code, lang)
        parent = taxonomy.parent(code)
        if "." in code:
            assert parent == code.rpartition(".")[0]
            assert taxonomy.is_known(parent)
            assert code in taxonomy.children(parent)
        else:
            assert parent is None
            assert code in taxonomy.categories


def test_labels_are_unambiguous_in_each_language() -> None:
    taxonomy = load_taxonomy()
    for lang in LABEL_LANGUAGES:
        labels = [taxonomy.label(code, lang).casefold() for code in taxonomy.codes]
        duplicates = {label for label in labels if labels.count(label) > 1}
        assert not duplicates, (lang, duplicates)


def test_no_special_categories_of_personal_data() -> None:
    taxonomy = load_taxonomy()
    for code in taxonomy.codes:
        texts = [code, *(taxonomy.label(code, lang) for lang in LABEL_LANGUAGES)]
        for text in texts:
            assert not BANNED.search(text), (code, text)


def test_twin_city_interests_are_present() -> None:
    taxonomy = load_taxonomy()
    for code in (
        "exchange.twinning",
        "music_making.choir",
        "sport.football",
        "sport.handball",
        "sport.cycling",
        "sport.sailing",
        "games.board_games",
        "food.cooking",
        "food.french_cuisine",
        "food.german_cuisine",
        "food.wine",
        "food.beer_brewing",
        "home_garden.gardening",
        "media.photography",
    ):
        assert taxonomy.is_known(code), code
    assert taxonomy.label("exchange.twinning", "de") == "Städtepartnerschaft"
    assert taxonomy.label("exchange.twinning", "fr") == "jumelage"
    assert taxonomy.label("sport.cycling", "en") == "cycling"


def test_label_falls_back_to_english_and_rejects_unknown_codes() -> None:
    taxonomy = load_taxonomy()
    assert taxonomy.label("music_making.choir", "nl") == "choir"
    with pytest.raises(KeyError):
        taxonomy.label("sport.quidditch", "en")


def test_hierarchy_navigation() -> None:
    taxonomy = load_taxonomy()
    assert taxonomy.parent("sport.cycling") == "sport"
    assert taxonomy.parent("sport") is None
    assert taxonomy.ancestors("sport.cycling") == ("sport",)
    assert taxonomy.ancestors("sport") == ()
    assert taxonomy.category("sport.cycling") == "sport"
    assert taxonomy.category("sport") == "sport"
    assert taxonomy.children("sport.cycling") == ()
    assert taxonomy.children("sport") == tuple(sorted(taxonomy.children("sport")))
    with pytest.raises(KeyError):
        taxonomy.parent("nope")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("sport.cycling", "sport.cycling"),
        ("sport", "sport"),
        ("sport.kitesurfing", "sport"),
        ("sport.cycling.gravel", "sport.cycling"),
        ("astrology", None),
        ("astrology.horoscopes", None),
        ("", None),
        ("Sport.Cycling", None),
    ],
)
def test_normalise(code: str, expected: str | None) -> None:
    assert load_taxonomy().normalise(code) == expected


def test_sort_is_taxonomy_order_without_unknowns() -> None:
    taxonomy = load_taxonomy()
    assert taxonomy.sort(["sport.cycling", "music_making.choir", "x", "sport.cycling"]) == (
        "music_making.choir",
        "sport.cycling",
    )


def test_taxonomy_is_immutable() -> None:
    taxonomy = load_taxonomy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        taxonomy.version = "2027.1"  # type: ignore[misc]


def test_malformed_documents_are_rejected() -> None:
    labels = {"de": "Sport", "fr": "sport", "en": "sport"}
    with pytest.raises(VocabularyError, match="missing fr label"):
        taxonomy_from_document(
            {
                "version": "1",
                "categories": {
                    "sport": {"labels": {"de": "Sport", "en": "sport"}, "interests": {}}
                },
            }
        )
    with pytest.raises(VocabularyError, match="version"):
        taxonomy_from_document({"categories": {}})
    with pytest.raises(VocabularyError, match="no parent"):
        Taxonomy.from_labels("1", {"sport.cycling": labels})
    with pytest.raises(VocabularyError, match="malformed"):
        Taxonomy.from_labels("1", {"Sport": labels})


def test_nothing_is_read_at_import_time() -> None:
    script = (
        "import sys\n"
        "opened = []\n"
        "sys.addaudithook(lambda event, args: opened.append(str(args[0]))"
        " if event == 'open' else None)\n"
        "import matching.taxonomy, matching.occupations, matching.languages\n"
        "import matching.anonymise, matching.wire, matching.explain\n"
        "assert not [p for p in opened if p.endswith('.json')], opened\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


# --- occupations ----------------------------------------------------------------------


def test_isco_major_and_sub_major_groups() -> None:
    occupations = load_occupations()
    assert occupations.major_groups == tuple("0123456789")
    sub_major = [code for code in occupations.codes if len(code) == 2]
    assert len(sub_major) == 43
    expected_sizes = {
        "0": 3,
        "1": 4,
        "2": 6,
        "3": 5,
        "4": 4,
        "5": 4,
        "6": 3,
        "7": 5,
        "8": 3,
        "9": 6,
    }
    for major, size in expected_sizes.items():
        groups = occupations.sub_major_groups(major)
        assert len(groups) == size, major
        assert all(occupations.parent(code) == major for code in groups)
    assert len(occupations.codes) == 53


def test_isco_labels() -> None:
    occupations = load_occupations()
    for code in occupations.codes:
        for lang in LABEL_LANGUAGES:
            assert occupations.label(code, lang)
    assert occupations.label("23", "en") == "Teaching professionals"
    assert occupations.label("23", "de") == "Lehrkräfte"
    assert occupations.label("23", "fr") == "Spécialistes de l'enseignement"
    assert occupations.label("2", "it") == "Professionals"


def test_isco_hierarchy_and_normalise() -> None:
    occupations = load_occupations()
    assert occupations.parent("23") == "2"
    assert occupations.parent("2") is None
    assert occupations.is_known("23")
    assert not occupations.is_known("231")
    assert occupations.normalise("23") == "23"
    assert occupations.normalise("2341") == "23"
    assert occupations.normalise("99") == "9"
    assert occupations.normalise("") is None
    assert occupations.normalise("x2") is None
    assert occupations.normalise("²") is None
    assert occupations.shared_group("23", "23") == "23"
    assert occupations.shared_group("23", "24") == "2"
    assert occupations.shared_group("23", "2") == "2"
    assert occupations.shared_group("23", "52") is None
    assert occupations.shared_group(None, "52") is None


# --- languages and CEFR levels --------------------------------------------------------


def test_languages_cover_germany_and_france() -> None:
    languages = load_languages()
    assert len(languages.codes) >= 40
    assert list(languages.codes) == sorted(languages.codes)
    expected = (
        *("de", "fr", "en", "es", "it", "nl", "pl", "pt", "ru", "uk", "tr", "ar", "fa", "ku"),
        *("da", "sv", "nb", "fi", "el", "ro", "hu", "cs", "sk", "hr", "sr", "bs", "sq", "bg"),
        *("zh", "ja", "ko", "vi", "hi", "ur", "ta", "br"),
    )
    for code in expected:
        assert languages.is_known(code), code
    assert not languages.is_known("nds")  # Low German has no ISO 639-1 code
    for code in languages.codes:
        assert re.fullmatch(r"[a-z]{2}", code)
        for lang in LABEL_LANGUAGES:
            assert languages.label(code, lang)
        assert languages.label(code, "en")[0].isupper()
        assert languages.label(code, "de")[0].isupper()
        assert languages.label(code, "fr")[0].islower()


def test_language_labels_and_normalise() -> None:
    languages = load_languages()
    assert languages.label("de", "fr") == "allemand"
    assert languages.label("fr", "de") == "Französisch"
    assert languages.label("en", "en") == "English"
    assert languages.normalise("de-AT") == "de"
    assert languages.normalise("FR") == "fr"
    assert languages.normalise("pt_BR") == "pt"
    assert languages.normalise("tlh") is None
    assert languages.normalise("") is None


def test_cefr_order() -> None:
    assert CEFR_ORDER == CEFR_LEVELS == ("A1", "A2", "B1", "B2", "C1", "C2", "native")
    assert level_at_least("native", "C2")
    assert level_at_least("C2", "C1")
    assert level_at_least("B1", "B1")
    assert not level_at_least("A2", "B1")
    assert not level_at_least("C2", "native")
    assert cefr_rank("A1") == 0
    assert stronger_level("B1", "native") == "native"
    assert stronger_level("C1", "A2") == "C1"
    with pytest.raises(ValueError, match="CEFR"):
        level_at_least("B3", "A1")
    with pytest.raises(ValueError, match="CEFR"):
        level_at_least("B1", "fluent")


def test_coarse_levels_are_what_the_gates_distinguish() -> None:
    assert LANGUAGE_LEVELS == ("basic", "fluent", "native")
    assert [coarse_level(level) for level in CEFR_ORDER] == [
        "basic",
        "basic",
        "fluent",
        "fluent",
        "fluent",
        "fluent",
        "native",
    ]
    assert [coarse_level(level) for level in LANGUAGE_LEVELS] == list(LANGUAGE_LEVELS)
    assert coarse_level("B3") is None and coarse_level(None) is None
    assert coarse_rank("basic") < coarse_rank("fluent") < coarse_rank("native")
    with pytest.raises(ValueError, match="language level"):
        coarse_rank("B2")
    assert coarse_languages({"fr": "A2", "de": "native", "en": "C1", "xx": "B3"}) == {
        "de": "native",
        "en": "fluent",
        "fr": "basic",
    }
