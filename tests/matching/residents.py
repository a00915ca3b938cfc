"""Small populations for the engine tests, with a taxonomy of their own.

Shared by the full-run and the refresh tests, which must see the same residents: the
refresh is checked against the full run.
"""

from __future__ import annotations

import random

from matching.profile import (
    CEFR_LEVELS,
    CHILD_AGE_BANDS,
    GRADE_BANDS,
    KINDS,
    PERSON_AGE_BANDS,
    InterestProfile,
)

CATEGORIES = ("sport", "music", "books", "food", "nature", "games")
CODES = tuple(sorted([*CATEGORIES, *(f"{c}.i{i}" for c in CATEGORIES for i in range(6))]))
LEAVES = tuple(code for code in CODES if "." in code)


def parent(code: str) -> str | None:
    return code.rpartition(".")[0] or None


def population(city: str, n: int, seed: int) -> list[InterestProfile]:
    """Small residents with skewed interests and a mix of kinds and languages."""
    rng = random.Random(f"{city}-{seed}")
    popular = [LEAVES[i] for i in range(len(LEAVES)) for _ in range(len(LEAVES) - i)]
    native = "de" if city == "oldenburg" else "fr"
    foreign = "fr" if native == "de" else "de"
    residents = []
    for _ in range(n):
        kind = rng.choices(KINDS, weights=(8, 2, 1, 1))[0]
        interests = set(rng.sample(popular, rng.randint(1, 6)))
        if rng.random() < 0.1:
            interests.add(rng.choice(CATEGORIES))
        languages = {native: "native"}
        for code in ("en", foreign):
            if rng.random() < 0.5:
                languages[code] = rng.choice(CEFR_LEVELS[:6])
        learning = (foreign,) if rng.random() < 0.3 else ()
        age_band, children = None, ()
        if kind == "person" and rng.random() < 0.9:
            age_band = rng.choice(PERSON_AGE_BANDS)
        elif kind == "school_class":
            age_band = rng.choice(GRADE_BANDS)
        elif kind == "family":
            children = tuple(sorted(rng.sample(CHILD_AGE_BANDS, rng.randint(0, 2))))
        occupation = rng.choice([None, "2", "23", "24", "51", "52", "71"])
        residents.append(
            InterestProfile(
                id=f"https://{city}.example/p/{rng.getrandbits(48):012x}",
                kind=kind,
                interests=tuple(sorted(interests)),
                occupation=occupation if kind == "person" else None,
                languages=languages,
                learning=learning,
                age_band=age_band,
                children_age_bands=children,
            )
        )
    return residents
