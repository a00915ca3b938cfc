"""The synthetic residents of the demonstration pair, as plain data.

Everything is drawn from a random generator seeded with the city's slug, so every
fresh demo, and the test that checks the mayors, sees the same people. The shares
lean on what a partner-city portal attracts: Oldenburg speaks German and much
English, some French, and many learn French; Cholet speaks French, some English and
German, and some learn German; so there are tandems both ways.

The two mayors share a distinctive set of interests (twinning, Franco-German
friendship, local and European history, choir, volunteering), the ISCO group 11, an
age band and a German ⇄ French tandem. Enough other residents hold each of those
values for them to survive k-anonymity, but no other person holds more than two of
the mayors' interests. That makes the mayors each other's clearly best match, and
so twins, whatever pseudonyms their nodes give them.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from node.demo.featured import FEATURED, MAYOR_INTERESTS, MAYOR_OCCUPATION, Role
from node.demo.habits import (
    CLASS_INTERESTS,
    CLUB_INTERESTS,
    FAMILY_INTERESTS,
    OCCUPATIONS,
    PERSON_AGES,
    SPEECH,
    THEME_WEIGHTS,
    THEMES,
    Speech,
)
from node.demo.logins import with_login_values
from node.demo.names import CHOLET, OLDENBURG, SCHOOL_YEARS, CityNames, mail_local_part
from node.profiles.profiles import ProfileData

DEMO_PASSWORD = "moin-bonjour"  # noqa: S105 - the published password of the demo accounts
SIZES = {"oldenburg": 300, "cholet": 180}
NAMES = {"oldenburg": OLDENBURG, "cholet": CHOLET}
KIND_SHARES = {"person": 76, "family": 10, "club": 7, "school_class": 7}
_OTHERS_MAX_MAYOR_INTERESTS = 2
_MIN_HOLDERS = 6  # of each mayor value per city besides the mayor: above the default k of 5


@dataclass(frozen=True, slots=True)
class DemoResident:
    """One account to create: what the resident typed at registration and in the profile."""

    email: str
    display_name: str
    kind: str
    language: str  # the language the pages are shown in
    profile: ProfileData
    role: Role | None = None  # the demo prints mayors and logins


class _Draw:
    """One city's generator: its names, habits, random source and the names taken."""

    def __init__(self, slug: str) -> None:
        self.slug = slug
        self.names: CityNames = NAMES[slug]
        self.speech: Speech = SPEECH[slug]
        self.rng = random.Random(f"zwilling-demo-{slug}")
        self.emails: set[str] = set()
        self.taken: set[str] = set()

    def pick(self, weights: dict[str, int]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def level(self, levels: str, weights: Sequence[int]) -> str:
        return self.rng.choices(levels.split(), weights=list(weights))[0]

    def email(self, *words: str) -> str:
        base = mail_local_part(*words)
        local, n = base, 1
        while f"{local}@{self.names.mail_domain}" in self.emails:
            n += 1
            local = f"{base}{n}"
        address = f"{local}@{self.names.mail_domain}"
        self.emails.add(address)
        return address

    def claim(self, name: str) -> bool:
        """Take a display name unless it is taken (no two clubs of the same name)."""
        if name in self.taken:
            return False
        self.taken.add(name)
        return True

    def languages(self, age_band: str | None) -> tuple[dict[str, str], tuple[str, ...]]:
        """Spoken languages with levels, and languages being learnt: English weaker with
        age, the partner's language rarer, learning it common."""
        speech, rng = self.speech, self.rng
        older = age_band in ("60-69", "70-79", "80+")
        spoken: dict[str, str] = {}
        if rng.random() < 0.07:
            spoken[rng.choice(speech.others)] = "native"
            spoken[speech.native] = self.level("B2 C1 C2", (2, 4, 3))
        else:
            spoken[speech.native] = "native"
        if "en" not in spoken and rng.random() < (0.5 if older else speech.english):
            spoken["en"] = self.level("A2 B1 B2 C1", (4, 4, 2, 1) if older else (3, 4, 4, 2))
        if speech.partner not in spoken and rng.random() < speech.partner_share:
            spoken[speech.partner] = self.level("A1 A2 B1 B2 C1", (3, 4, 3, 2, 1))
        if rng.random() < 0.12:
            spoken.setdefault(rng.choice(speech.foreign), self.level("A2 B1 B2", (3, 3, 1)))
        learning: list[str] = []
        if spoken.get(speech.partner) in (None, "A1", "A2") and rng.random() < 0.45:
            learning.append(speech.partner)
        other = rng.choice(("es", "it", "en"))
        if rng.random() < 0.08 and spoken.get(other) != "native" and other not in learning:
            learning.append(other)
        return spoken, tuple(learning)

    def interests(self, themes: int, count: tuple[int, int]) -> list[str]:
        chosen: list[str] = []
        while len(chosen) < themes:
            theme = self.pick(THEME_WEIGHTS[self.slug])
            if theme not in chosen:
                chosen.append(theme)
        pool = sorted({code for theme in chosen for code in THEMES[theme]})
        picked = self.rng.sample(pool, min(self.rng.randint(*count), len(pool)))
        rest = sorted({code for codes in THEMES.values() for code in codes} - set(picked))
        return picked + self.rng.sample(rest, self.rng.randint(0, 2))


def _about(language: str, kind: str, place: str) -> str:
    texts = {
        ("de", "person"): f"Ich wohne in {place} und freue mich auf Kontakte nach Cholet.",
        ("fr", "person"): f"J'habite le quartier {place} ; au plaisir d'échanger avec Oldenburg.",
        ("en", "person"): f"I live in {place} and look forward to meeting people from the "
        "partner city.",
        ("de", "family"): f"Wir sind eine Familie aus {place} und möchten Cholet kennenlernen.",
        ("fr", "family"): f"Une famille du quartier {place} qui aimerait découvrir Oldenburg.",
        ("de", "club"): f"Unser Verein aus {place} sucht Partner in Cholet für Begegnungen.",
        ("fr", "club"): f"Notre association ({place}) cherche des partenaires à Oldenburg.",
        ("de", "school_class"): f"Unsere Klasse ({place}) sucht eine Partnerklasse in Cholet.",
        ("fr", "school_class"): f"Notre classe ({place}) cherche une classe partenaire à "
        "Oldenburg.",
    }
    return texts[(language, kind)]


def _person(draw: _Draw) -> DemoResident | None:
    rng, names = draw.rng, draw.names
    first = rng.choice(names.female if rng.random() < 0.5 else names.male)
    last = rng.choice(names.surnames)
    if not draw.claim(f"{first} {last}"):
        return None
    age = draw.pick(PERSON_AGES)
    occupation: str | None = draw.pick(OCCUPATIONS[draw.slug])
    if age == "10-19" or (age == "20-29" and rng.random() < 0.35):
        occupation = None  # at school, in training or studying
    elif age in ("70-79", "80+") and rng.random() < 0.7:
        occupation = None  # retired
    spoken, learning = draw.languages(age)
    interests = draw.interests(themes=2, count=(3, 7))
    held = [code for code in interests if code in MAYOR_INTERESTS]
    for code in held[_OTHERS_MAX_MAYOR_INTERESTS:]:
        interests.remove(code)
    language = "en" if rng.random() < 0.04 else draw.speech.native
    return DemoResident(
        email=draw.email(first, last),
        display_name=f"{first} {last}",
        kind="person",
        language=language,
        profile=ProfileData(
            interests=tuple(interests),
            occupation=occupation,
            languages=spoken,
            learning=learning,
            age_band=age,
            about=_about(language, "person", rng.choice(names.districts)),
            show_about=rng.random() < 0.85,
        ),
    )


def _family(draw: _Draw) -> DemoResident | None:
    rng, names = draw.rng, draw.names
    surname = rng.choice(names.surnames)
    name = f"{names.family_prefix} {surname}"
    if not draw.claim(name):
        return None
    spoken, learning = draw.languages("40-49")
    interests = rng.sample(FAMILY_INTERESTS, rng.randint(2, 4))
    interests += draw.interests(themes=1, count=(2, 4))
    children = sorted(rng.sample(("0-5", "6-11", "12-17"), rng.randint(1, 2)))
    return DemoResident(
        email=draw.email(names.family_prefix, surname),
        display_name=name,
        kind="family",
        language=draw.speech.native,
        profile=ProfileData(
            interests=tuple(dict.fromkeys(interests)),
            languages=spoken,
            learning=learning,
            children_age_bands=tuple(children),
            about=_about(draw.speech.native, "family", rng.choice(names.districts)),
        ),
    )


def _club(draw: _Draw) -> DemoResident | None:
    rng, speech = draw.rng, draw.speech
    pattern, theme = rng.choice(draw.names.clubs)
    district = rng.choice(draw.names.districts)
    name = pattern.format(district=district)
    if not draw.claim(name):
        return None
    interests = [*CLUB_INTERESTS[theme], "community.club_life"]
    if rng.random() < 0.5:
        interests.append("exchange.twinning")
    if rng.random() < 0.4:
        interests.append(rng.choice(("community.events", "community.youth_work", "food.beer")))
    spoken: dict[str, str] = {speech.native: "native"}
    if rng.random() < 0.8:
        spoken["en"] = draw.level("A2 B1 B2", (1, 3, 2))
    if rng.random() < 0.4:
        spoken[speech.partner] = draw.level("A2 B1 B2", (2, 2, 1))
    wants = speech.partner not in spoken and rng.random() < 0.6
    return DemoResident(
        email=draw.email(name),
        display_name=name,
        kind="club",
        language=speech.native,
        profile=ProfileData(
            interests=tuple(interests),
            languages=spoken,
            learning=(speech.partner,) if wants else (),
            about=_about(speech.native, "club", district),
        ),
    )


def _school_class(draw: _Draw) -> DemoResident | None:
    rng, names, speech = draw.rng, draw.names, draw.speech
    school, school_type = rng.choice(names.schools)
    year, band = rng.choice(SCHOOL_YEARS[school_type])
    letter = rng.choice(names.class_letters)
    name = names.class_pattern.format(year=year, letter=letter, school=school)
    if not draw.claim(name):
        return None
    english = {"grades-1-4": "A1", "grades-5-6": "A2", "grades-7-9": "A2", "grades-10-13": "B1"}
    interests = ["exchange.school_exchange", "exchange.pen_pals"]
    interests += rng.sample(CLASS_INTERESTS, rng.randint(2, 4))
    return DemoResident(
        email=draw.email(name),
        display_name=name,
        kind="school_class",
        language=speech.native,
        profile=ProfileData(
            interests=tuple(interests),
            languages={speech.native: "native", "en": english[band]},
            learning=(speech.partner,),
            age_band=band,
            about=_about(speech.native, "school_class", school),
        ),
    )


MAKERS = {"person": _person, "family": _family, "club": _club, "school_class": _school_class}


def _featured(draw: _Draw) -> list[DemoResident]:
    residents = []
    for name, kind, language, role, profile in FEATURED[draw.slug]:
        draw.claim(name)
        words = name.split() if kind in ("person", "family") else [name]
        residents.append(DemoResident(draw.email(*words), name, kind, language, profile, role))
    return residents


def _with_mayor_values(draw: _Draw, residents: list[DemoResident]) -> list[DemoResident]:
    """Enough holders of each mayor value to pass k-anonymity, without anyone coming
    closer to a mayor than the other mayor."""
    people = [i for i, r in enumerate(residents) if r.kind == "person" and r.role is None]

    def mayor_share(i: int) -> int:
        return sum(code in MAYOR_INTERESTS for code in residents[i].profile.interests)

    def update(i: int, **changes: Any) -> None:
        residents[i] = replace(residents[i], profile=replace(residents[i].profile, **changes))

    for code in MAYOR_INTERESTS:
        holders = sum(code in residents[i].profile.interests for i in people)
        free = [
            i
            for i in people
            if code not in residents[i].profile.interests
            and mayor_share(i) < _OTHERS_MAX_MAYOR_INTERESTS
        ]
        draw.rng.shuffle(free)
        for i in free[: max(0, _MIN_HOLDERS - holders)]:
            update(i, interests=(*residents[i].profile.interests, code))
    executives = sum(residents[i].profile.occupation == MAYOR_OCCUPATION for i in people)
    working = [
        i
        for i in people
        if residents[i].profile.occupation not in (None, MAYOR_OCCUPATION)
        and residents[i].profile.age_band in ("40-49", "50-59", "60-69")
    ]
    draw.rng.shuffle(working)
    for i in working[: max(0, _MIN_HOLDERS - executives)]:
        update(i, occupation=MAYOR_OCCUPATION)
    return residents


def population(slug: str, size: int | None = None) -> list[DemoResident]:
    """The residents of one demo city, the same on every call: featured accounts first."""
    draw = _Draw(slug)
    residents = _featured(draw)
    total = SIZES[slug] if size is None else size
    kinds, shares = list(KIND_SHARES), list(KIND_SHARES.values())
    while len(residents) < total:
        made = MAKERS[draw.rng.choices(kinds, weights=shares)[0]](draw)
        if made is not None:
            residents.append(made)
    residents = with_login_values(draw.rng, residents, _MIN_HOLDERS)
    return _with_mayor_values(draw, residents)


def featured(residents: Sequence[DemoResident]) -> list[DemoResident]:
    """The mayors and demo logins, in the order the demo prints them."""
    return [r for r in residents if r.role is not None]
