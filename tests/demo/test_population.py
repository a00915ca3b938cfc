"""The demo populations: valid profiles, plausible make-up, and the two mayors twins."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import pytest

from matching.anonymise import generalise
from matching.batch import match_pair
from matching.occupations import load_occupations
from matching.profile import InterestProfile
from matching.score import rarity_weights, score
from matching.taxonomy import load_taxonomy
from node.accounts.accounts import password_context
from node.accounts.passwords import password_problems
from node.demo.featured import COUNTERPARTS, MAYOR_INTERESTS
from node.demo.population import DEMO_PASSWORD, DemoResident, featured, population
from node.matches.state import match_settings
from node.profiles.profiles import profile_problems
from node.runtime.config import load_config
from node.vectors._population import encode

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = {slug: ROOT / "config" / f"{slug}.toml" for slug in ("oldenburg", "cholet")}


def published(slug: str, residents: list[DemoResident], salt: str) -> list[InterestProfile | None]:
    """What the node would publish: raw vectors, generalised with the city's k, under
    pseudonym-like ids (``salt`` changes them, as a fresh node secret would); None for a
    withheld resident."""
    config = load_config(CONFIGS[slug], environ={})
    raw = []
    for number, resident in enumerate(residents):
        pseudonym = hashlib.sha256(f"{salt}/{slug}/{number}".encode()).hexdigest()[:24]
        vector = encode(number, resident.kind, resident.profile)
        raw.append(
            InterestProfile(**{**_fields(vector), "id": f"{config.node.base_url}/p/{pseudonym}"})
        )
    return generalise(
        raw, config.matching.k_anonymity, load_taxonomy(), occupations=load_occupations()
    )


def _fields(profile: InterestProfile) -> dict[str, object]:
    return {name: getattr(profile, name) for name in InterestProfile.__dataclass_fields__}


def mayor(residents: list[DemoResident], vectors: list[InterestProfile | None]) -> InterestProfile:
    index = next(i for i, r in enumerate(residents) if r.role == "mayor")
    vector = vectors[index]
    assert vector is not None, "the mayor was withheld"
    return vector


@pytest.mark.parametrize("slug", ["oldenburg", "cholet"])
def test_every_demo_profile_is_valid_and_addresses_are_unique(slug: str) -> None:
    residents = population(slug)
    assert 150 <= len(residents) <= 400
    assert all(not profile_problems(r.kind, r.profile) for r in residents)
    assert len({r.email for r in residents}) == len(residents)
    assert len({r.display_name for r in residents if r.kind != "person"}) == len(
        [r for r in residents if r.kind != "person"]
    )
    kinds = Counter(r.kind for r in residents)
    assert set(kinds) == {"person", "family", "club", "school_class"}
    assert kinds["person"] > len(residents) / 2


def test_the_same_population_every_time() -> None:
    assert population("cholet") == population("cholet")


def test_languages_make_tandems_both_ways() -> None:
    oldenburg, cholet = population("oldenburg"), population("cholet")
    assert all(r.profile.languages.get("de") for r in oldenburg if r.kind != "person")
    learning_french = [r for r in oldenburg if "fr" in r.profile.learning]
    learning_german = [r for r in cholet if "de" in r.profile.learning]
    assert len(learning_french) > 40
    assert len(learning_german) > 25
    assert any(r.profile.languages.get("fr") in ("B1", "B2", "C1") for r in oldenburg)
    assert any(r.profile.languages.get("en") for r in cholet)


@pytest.mark.parametrize("slug", ["oldenburg", "cholet"])
def test_demo_logins_cover_every_kind_and_accept_the_shared_password(slug: str) -> None:
    config = load_config(CONFIGS[slug], environ={})
    logins = featured(population(slug))
    assert {r.kind for r in logins} == {"person", "family", "club", "school_class"}
    assert logins[0].role == "mayor"
    for resident in logins:
        context = password_context(config, resident.email, resident.display_name)
        assert password_problems(DEMO_PASSWORD, context) == []


@pytest.mark.parametrize("salt", ["first start", "after --fresh", "another secret"])
def test_the_mayors_are_twins(salt: str) -> None:
    oldenburg_residents, cholet_residents = population("oldenburg"), population("cholet")
    oldenburg_all = published("oldenburg", oldenburg_residents, salt)
    cholet_all = published("cholet", cholet_residents, salt)
    krogmann = mayor(oldenburg_residents, oldenburg_all)
    bourdouleix = mayor(cholet_residents, cholet_all)
    oldenburg = [v for v in oldenburg_all if v is not None]
    cholet = [v for v in cholet_all if v is not None]
    # Their distinctive interests survive k-anonymity on both sides; occupation and age
    # band are part of the combination that k residents must share, so they coarsen.
    for vector in (krogmann, bourdouleix):
        assert vector.interests == MAYOR_INTERESTS
        assert vector.occupation in ("11", "1")
        assert vector.age_band in ("60-69", None)

    taxonomy = load_taxonomy()
    settings = match_settings(load_config(CONFIGS["oldenburg"], environ={}))
    result = match_pair(
        oldenburg, cholet, codes=taxonomy.codes, parent=taxonomy.parent, settings=settings
    )
    assert [t.other_id for t in result.twins[krogmann.id]] == [bourdouleix.id]
    assert krogmann.id in [t.other_id for t in result.twins[bourdouleix.id]]
    assert result.suggestions[krogmann.id][0].other_id == bourdouleix.id
    assert result.suggestions[bourdouleix.id][0].other_id == krogmann.id

    # Not by luck of the pseudonyms: each is the other's strictly best match.
    weights = rarity_weights([*oldenburg, *cholet], taxonomy.codes, taxonomy.parent)
    between = score(krogmann, bourdouleix, weights, settings.kind_gates)
    assert all(
        score(krogmann, other, weights, settings.kind_gates) < between
        for other in cholet
        if other is not bourdouleix
    )
    assert all(
        score(other, bourdouleix, weights, settings.kind_gates) < between
        for other in oldenburg
        if other is not krogmann
    )


def test_most_residents_have_a_twin() -> None:
    oldenburg = [v for v in published("oldenburg", population("oldenburg"), "x") if v]
    cholet = [v for v in published("cholet", population("cholet"), "x") if v]
    taxonomy = load_taxonomy()
    result = match_pair(oldenburg, cholet, codes=taxonomy.codes, parent=taxonomy.parent)
    with_twin = sum(1 for vector in oldenburg if result.twins[vector.id])
    # Combinations k-anonymous in a city of 300 cost languages (and with them the
    # language gate) for some: about two in three have a twin.
    assert with_twin > 0.6 * len(oldenburg)


@pytest.mark.parametrize("salt", ["first start", "after --fresh", "another secret"])
def test_every_login_meets_its_counterpart(salt: str) -> None:
    """Whatever pseudonyms the nodes give: the handball clubs, the families and the
    classes are each other's twins, and every login has a twin."""
    residents = {slug: population(slug) for slug in ("oldenburg", "cholet")}
    vectors = {slug: published(slug, residents[slug], salt) for slug in residents}
    names: dict[str, str] = {}
    for slug in residents:
        for resident, vector in zip(residents[slug], vectors[slug], strict=True):
            if resident.role is not None:
                assert vector is not None, f"{resident.display_name} was withheld"
            if vector is not None:
                names[vector.id] = resident.display_name
    taxonomy = load_taxonomy()
    result = match_pair(
        [v for v in vectors["oldenburg"] if v],
        [v for v in vectors["cholet"] if v],
        codes=taxonomy.codes,
        parent=taxonomy.parent,
        settings=match_settings(load_config(CONFIGS["oldenburg"], environ={})),
    )
    twins = {
        names[actor]: [names[t.other_id] for t in found] for actor, found in result.twins.items()
    }
    for login, counterpart in COUNTERPARTS.items():
        assert twins[login] == [counterpart], login
        assert twins[counterpart][0] == login, counterpart
    for slug in residents:
        for resident in featured(residents[slug]):
            assert twins[resident.display_name], f"{resident.display_name} has no twin"
