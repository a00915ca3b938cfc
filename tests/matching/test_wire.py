"""The InterestProfile wire object: exact output, round trips, every way a peer errs."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.languages import load_languages
from matching.occupations import load_occupations
from matching.profile import (
    CHILD_AGE_BANDS,
    GRADE_BANDS,
    LANGUAGE_LEVELS,
    PERSON_AGE_BANDS,
    InterestProfile,
)
from matching.taxonomy import load_taxonomy
from matching.wire import (
    MAX_INTERESTS,
    MAX_PEER_INTERESTS,
    ProfileFormatError,
    profile_from_json,
    profile_to_json,
)

TAXONOMY = load_taxonomy()
OCCUPATIONS = load_occupations()
LANGUAGES = load_languages()

ACTOR = "https://monjumeau.cholet.example/p/3f9a0c5e1d7b4a2c9e8f6d5c4b3a29180f7e6d5c4b3a2918f0e1d2c3b4a59687"

PROFILE = InterestProfile(
    id=ACTOR,
    kind="person",
    interests=("music_making.choir", "sport.cycling"),
    occupation="23",
    languages={"fr": "native", "en": "fluent", "de": "basic"},
    learning=("de",),
    age_band="30-39",
    updated="2026-03-01T09:30:00+00:00",
)

EXPECTED = {
    "type": "InterestProfile",
    "id": ACTOR,
    "kind": "person",
    "interests": ["music_making.choir", "sport.cycling"],
    "occupation": "23",
    "languages": {"de": "basic", "en": "fluent", "fr": "native"},
    "learning": ["de"],
    "ageBand": "30-39",
    "childrenAgeBands": [],
    "updated": "2026-03-01T09:30:00+00:00",
}


def parse(obj: object) -> tuple[InterestProfile, int]:
    return profile_from_json(obj, TAXONOMY, OCCUPATIONS, LANGUAGES)


def with_changes(**changes: Any) -> dict[str, Any]:
    obj = copy.deepcopy(EXPECTED)
    for key, value in changes.items():
        if value is _MISSING:
            del obj[key]
        else:
            obj[key] = value
    return obj


_MISSING = object()


# --- serialising ----------------------------------------------------------------------


def test_profile_to_json_is_exactly_the_wire_object() -> None:
    obj = profile_to_json(PROFILE)
    assert obj == EXPECTED
    assert list(obj) == list(EXPECTED)
    assert list(obj["languages"]) == ["de", "en", "fr"]


def test_serialisation_is_byte_for_byte_deterministic() -> None:
    shuffled = InterestProfile(
        id=ACTOR,
        kind="person",
        interests=("sport.cycling", "music_making.choir"),
        occupation="23",
        languages={"de": "basic", "fr": "native", "en": "fluent"},
        learning=("de",),
        age_band="30-39",
        updated="2026-03-01T09:30:00+00:00",
    )
    assert json.dumps(profile_to_json(shuffled)) == json.dumps(profile_to_json(PROFILE))


def test_family_children_bands_in_canonical_order() -> None:
    family = InterestProfile(id=ACTOR, kind="family", children_age_bands=("12-17", "0-5"))
    assert profile_to_json(family)["childrenAgeBands"] == ["0-5", "12-17"]
    assert profile_to_json(family)["ageBand"] is None


def test_local_selection_limit_is_below_peer_limit() -> None:
    assert MAX_INTERESTS == 20
    assert MAX_PEER_INTERESTS == 25


# --- round trips ----------------------------------------------------------------------


def test_round_trip() -> None:
    assert parse(profile_to_json(PROFILE)) == (
        InterestProfile(
            id=ACTOR,
            kind="person",
            interests=("music_making.choir", "sport.cycling"),
            occupation="23",
            languages={"de": "basic", "en": "fluent", "fr": "native"},
            learning=("de",),
            age_band="30-39",
            updated="2026-03-01T09:30:00+00:00",
        ),
        0,
    )


def test_round_trip_through_json_text() -> None:
    text = json.dumps(profile_to_json(PROFILE))
    profile, changed = parse(json.loads(text))
    assert profile == PROFILE
    assert changed == 0


@st.composite
def valid_profiles(draw: st.DrawFn) -> InterestProfile:
    kind = draw(st.sampled_from(("person", "family", "club", "school_class")))
    bands = {"person": PERSON_AGE_BANDS, "school_class": GRADE_BANDS}.get(kind, ())
    return InterestProfile(
        id=f"https://oldenburg.example/p/{draw(st.text('0123456789abcdef', min_size=1))}",
        kind=kind,
        interests=tuple(
            sorted(
                draw(st.lists(st.sampled_from(TAXONOMY.codes), max_size=MAX_INTERESTS, unique=True))
            )
        ),
        occupation=draw(st.none() | st.sampled_from(OCCUPATIONS.codes)),
        languages=dict(
            sorted(
                draw(
                    st.dictionaries(
                        st.sampled_from(LANGUAGES.codes),
                        st.sampled_from(LANGUAGE_LEVELS),
                        max_size=4,
                    )
                ).items()
            )
        ),
        learning=tuple(
            sorted(draw(st.lists(st.sampled_from(LANGUAGES.codes), max_size=3, unique=True)))
        ),
        age_band=draw(st.none() | st.sampled_from(bands)) if bands else None,
        children_age_bands=tuple(
            b for b in CHILD_AGE_BANDS if kind == "family" and draw(st.booleans())
        ),
        updated=draw(st.sampled_from(("", "2026-01-01T00:00:00Z", "2026-05-17T08:15:00+02:00"))),
    )


@settings(max_examples=100, deadline=None)
@given(valid_profiles())
def test_every_valid_profile_round_trips(profile: InterestProfile) -> None:
    wire = json.loads(json.dumps(profile_to_json(profile)))
    assert parse(wire) == (profile, 0)


# --- JSON-LD housekeeping is ignored --------------------------------------------------


def test_json_ld_context_and_proof_are_ignored() -> None:
    obj = with_changes(
        **{
            "@context": ["https://www.w3.org/ns/activitystreams", "https://node.example/ns"],
            "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022"},
            "published": "2026-03-01T09:30:00Z",
        }
    )
    assert parse(obj) == (PROFILE, 0)


def test_optional_fields_may_be_missing() -> None:
    profile, changed = parse({"type": "InterestProfile", "id": ACTOR, "kind": "club"})
    assert profile == InterestProfile(id=ACTOR, kind="club")
    assert changed == 0


# --- unknown vocabulary falls back or is dropped, and is counted ----------------------


def test_unknown_interests_fall_back_to_their_parent_or_are_dropped() -> None:
    obj = with_changes(
        interests=["sport.cycling", "sport.kitesurfing", "astrology.horoscopes", "sport"]
    )
    profile, changed = parse(obj)
    assert profile.interests == ("sport", "sport.cycling")
    assert changed == 2


def test_unknown_occupations_are_cut_back_or_dropped() -> None:
    assert parse(with_changes(occupation="2341"))[0].occupation == "23"
    assert parse(with_changes(occupation="2341"))[1] == 1
    assert parse(with_changes(occupation="99"))[0].occupation == "9"
    profile, changed = parse(with_changes(occupation="teacher"))
    assert profile.occupation is None
    assert changed == 1
    assert parse(with_changes(occupation=None)) == (
        dataclasses.replace(PROFILE, occupation=None),
        0,
    )


def test_language_tags_are_normalised_or_dropped() -> None:
    obj = with_changes(
        languages={"de-AT": "B1", "de": "native", "FR": "C1", "tlh": "A1"},
        learning=["es", "pt-BR", "qya"],
    )
    profile, changed = parse(obj)
    assert profile.languages == {"de": "native", "fr": "fluent"}
    assert profile.learning == ("es", "pt")
    assert changed == 5 + 3  # five tags, three CEFR levels


def test_cefr_levels_of_an_older_peer_become_wire_levels_and_count_as_changed() -> None:
    obj = with_changes(languages={"de": "A2", "en": "B1", "fr": "native", "it": "C2"})
    profile, changed = parse(obj)
    assert profile.languages == {"de": "basic", "en": "fluent", "fr": "native", "it": "fluent"}
    assert changed == 3


def test_a_language_given_twice_keeps_the_stronger_level() -> None:
    profile, _ = parse(with_changes(languages={"de-AT": "basic", "de": "fluent", "DE": "A1"}))
    assert profile.languages == {"de": "fluent"}


def test_cefr_levels_never_leave() -> None:
    cefr = dataclasses.replace(PROFILE, languages={"fr": "native", "en": "C1", "de": "A1"})
    assert profile_to_json(cefr)["languages"] == {"de": "basic", "en": "fluent", "fr": "native"}


def test_exactly_the_limits_are_accepted() -> None:
    codes = [c for c in TAXONOMY.interests][:MAX_PEER_INTERESTS]
    profile, changed = parse(with_changes(interests=codes))
    assert len(profile.interests) == MAX_PEER_INTERESTS
    assert changed == 0
    long_code = "sport." + "x" * 58
    assert len(long_code) == 64
    profile, changed = parse(with_changes(interests=[long_code]))
    assert profile.interests == ("sport",)
    assert changed == 1


# --- rejections -----------------------------------------------------------------------

REJECTED: list[tuple[str, object, str]] = [
    ("not an object", ["InterestProfile"], "JSON object"),
    ("null", None, "JSON object"),
    ("wrong type", with_changes(type="Note"), "type"),
    ("missing type", with_changes(type=_MISSING), "type"),
    ("missing id", with_changes(id=_MISSING), "id"),
    ("id not a string", with_changes(id=42), "id"),
    ("id not a URL", with_changes(id="p/123"), "http"),
    ("id with a space", with_changes(id="https://node.example/p/a b"), "http"),
    ("id with a control character", with_changes(id="https://node.example/p/a\x00"), "http"),
    ("id with a broken host", with_changes(id="https://[::1/p/1"), "http"),
    ("id with odd scheme", with_changes(id="ftp://node.example/p/1"), "http"),
    ("id too long", with_changes(id="https://node.example/p/" + "a" * 600), "longer"),
    ("missing kind", with_changes(kind=_MISSING), "kind"),
    ("unknown kind", with_changes(kind="company"), "unknown kind"),
    ("kind not a string", with_changes(kind=["person"]), "kind"),
    ("interests not a list", with_changes(interests="sport.cycling"), "interests"),
    ("interests null", with_changes(interests=None), "interests"),
    ("too many interests", with_changes(interests=["sport"] * 26), "at most 25"),
    ("interest not a string", with_changes(interests=[7]), r"interests\[0\]"),
    ("interest too long", with_changes(interests=["sport." + "x" * 59]), "longer than 64"),
    ("occupation not a string", with_changes(occupation=23), "occupation"),
    ("occupation too long", with_changes(occupation="2" * 65), "longer than 64"),
    ("languages not an object", with_changes(languages=["de"]), "languages"),
    ("bad CEFR level", with_changes(languages={"de": "B3"}), "not a language level"),
    ("level not a string", with_changes(languages={"de": 5}), "languages"),
    ("expert is not a level", with_changes(languages={"de": "expert"}), "native, fluent"),
    ("language key too long", with_changes(languages={"d" * 65: "B1"}), "longer than 64"),
    ("too many languages", with_changes(languages={f"x{i}": "B1" for i in range(26)}), "more"),
    ("learning not a list", with_changes(learning={"de": True}), "learning"),
    ("learning too long", with_changes(learning=["de"] * 26), "at most 25"),
    ("learning entry too long", with_changes(learning=["d" * 65]), "longer than 64"),
    ("unknown age band", with_changes(ageBand="35"), "unknown ageBand"),
    ("age band not a string", with_changes(ageBand=35), "ageBand"),
    ("grade band on a person", with_changes(ageBand="grades-5-6"), "does not fit"),
    ("age band on a club", with_changes(kind="club"), "does not fit"),
    ("children bands not a list", with_changes(childrenAgeBands="0-5"), "childrenAgeBands"),
    ("unknown child band", with_changes(childrenAgeBands=["4"]), "childrenAgeBands"),
    ("children bands on a person", with_changes(childrenAgeBands=["0-5"]), "family"),
    ("updated not a string", with_changes(updated=1767225600), "updated"),
    ("updated not a timestamp", with_changes(updated="yesterday"), "ISO 8601"),
    ("updated without zone", with_changes(updated="2026-03-01T09:30:00"), "time zone"),
    ("a name", with_changes(name="Marie Dupont"), "personal data"),
    ("a display name", with_changes(preferredUsername="marie"), "personal data"),
    ("an e-mail", with_changes(email="marie@example.fr"), "personal data"),
    ("a free text", with_changes(summary="J'adore le vélo"), "personal data"),
    ("a photo", with_changes(icon={"type": "Image"}), "personal data"),
    ("a birth date", with_changes(birthDate="1990-01-01"), "personal data"),
    ("an exact age", with_changes(age=35), "personal data"),
    ("an address", with_changes(streetAddress="1 rue Nationale"), "personal data"),
    ("a location", with_changes(location={"type": "Place"}), "personal data"),
    ("a phone", with_changes(telephone="+33 2 41 00 00 00"), "personal data"),
    ("a school", with_changes(schoolName="Collège Trémolières"), "personal data"),
    ("a religion", with_changes(religion="x"), "personal data"),
    ("a gender", with_changes(gender="f"), "personal data"),
    ("a content map", with_changes(contentMap={"fr": "Bonjour"}), "personal data"),
]


@pytest.mark.parametrize(
    ("obj", "reason"), [(o, r) for _, o, r in REJECTED], ids=[n for n, *_ in REJECTED]
)
def test_malformed_profiles_are_rejected_with_a_reason(obj: object, reason: str) -> None:
    with pytest.raises(ProfileFormatError, match=reason) as raised:
        parse(obj)
    assert isinstance(raised.value, ValueError)
    assert raised.value.reason == str(raised.value)
