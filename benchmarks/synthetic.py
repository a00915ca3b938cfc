"""Seeded synthetic residents of a partner city, for the matching benchmark and the demo.

The populations are shaped like the real ones where it matters for matching cost and
quality: interest popularity is Zipf-like (many residents share a few popular hobbies,
rare ones are rare), residents differ in how many interests they give, and the language
mixes follow the two cities (Oldenburg mostly German natives with English and some
French, Cholet mostly French natives with English and some German), so the language
gate cuts a realistic share of pairs and a few tandems exist.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from matching.profile import (
    CEFR_LEVELS,
    CHILD_AGE_BANDS,
    GRADE_BANDS,
    PERSON_AGE_BANDS,
    InterestProfile,
    Kind,
)

ZIPF_EXPONENT = 1.0
MIN_INTERESTS = 3
MAX_INTERESTS = 19
GENERALISED_SHARE = 0.04
"""Share of interests a resident's node published as the category (k-anonymity)."""

UPDATED = "2025-01-01T00:00:00Z"

KIND_SHARES: tuple[tuple[Kind, float], ...] = (
    ("person", 0.88),
    ("family", 0.07),
    ("club", 0.04),
    ("school_class", 0.01),
)

PERSON_AGE_SHARES = (0.10, 0.15, 0.17, 0.16, 0.16, 0.13, 0.09, 0.04)
OCCUPATION_SHARE = 0.72
"""Residents giving an occupation; the rest are retired, students, caring at home…"""

MAJOR_ONLY_SHARE = 0.05
"""Occupations published as the major group only (k-anonymity)."""

ISCO_SUB_MAJOR: tuple[str, ...] = (
    "01", "02", "03", "11", "12", "13", "14", "21", "22", "23", "24", "25", "26",
    "31", "32", "33", "34", "35", "41", "42", "43", "44", "51", "52", "53", "54",
    "61", "62", "63", "71", "72", "73", "74", "75", "81", "82", "83", "91", "92",
    "93", "94", "95", "96",
)  # fmt: skip

# (language, probability of knowing it at all, level weights A1..C2) per city;
# natives are handled separately.
_LevelWeights = tuple[float, float, float, float, float, float]


@dataclass(frozen=True, slots=True)
class CityLanguages:
    """How a city's residents speak: the native language and the foreign ones."""

    native: str
    other_natives: tuple[str, ...]
    other_native_share: float
    foreign: tuple[tuple[str, float, _LevelWeights], ...]
    learning: tuple[tuple[str, float], ...]


CITY_LANGUAGES: dict[str, CityLanguages] = {
    "oldenburg": CityLanguages(
        native="de",
        other_natives=("tr", "ru", "pl", "ar"),
        other_native_share=0.06,
        foreign=(
            ("en", 0.70, (0.10, 0.18, 0.27, 0.25, 0.15, 0.05)),
            ("fr", 0.22, (0.35, 0.28, 0.20, 0.10, 0.05, 0.02)),
            ("nl", 0.06, (0.40, 0.25, 0.20, 0.10, 0.04, 0.01)),
            ("es", 0.08, (0.45, 0.25, 0.15, 0.10, 0.04, 0.01)),
        ),
        learning=(("fr", 0.09), ("es", 0.04), ("en", 0.03)),
    ),
    "cholet": CityLanguages(
        native="fr",
        other_natives=("pt", "ar", "br"),
        other_native_share=0.05,
        foreign=(
            ("en", 0.55, (0.15, 0.22, 0.28, 0.20, 0.11, 0.04)),
            ("de", 0.12, (0.40, 0.27, 0.18, 0.10, 0.04, 0.01)),
            ("es", 0.18, (0.35, 0.30, 0.20, 0.10, 0.04, 0.01)),
            ("it", 0.05, (0.45, 0.25, 0.15, 0.10, 0.04, 0.01)),
        ),
        learning=(("de", 0.07), ("en", 0.06), ("es", 0.03)),
    ),
}

CITY_HOSTS: dict[str, str] = {
    "oldenburg": "oldenburg.example",
    "cholet": "cholet.example",
}

_CATEGORIES = (
    "sport", "music", "arts", "books", "food", "nature", "travel", "games", "science",
    "crafts", "languages", "film", "volunteering", "history", "technology", "family",
    "dance", "theatre", "animals", "fashion",
)  # fmt: skip


def synthetic_taxonomy() -> tuple[tuple[str, ...], Callable[[str], str | None]]:
    """A two-level taxonomy of 200 codes (20 categories of 9 interests each).

    Used when the shipped taxonomy is not available, and by tests that must not depend
    on its contents.
    """
    codes: list[str] = []
    for category in _CATEGORIES:
        codes.append(category)
        codes.extend(f"{category}.item{i}" for i in range(9))
    ordered = tuple(sorted(codes))

    def parent(code: str) -> str | None:
        head, _, _ = code.rpartition(".")
        return head or None

    return ordered, parent


def default_taxonomy() -> tuple[tuple[str, ...], Callable[[str], str | None]]:
    """The shipped taxonomy's codes and parent function, or the synthetic one."""
    try:
        from matching.taxonomy import load_taxonomy
    except ImportError:
        return synthetic_taxonomy()
    taxonomy = load_taxonomy()
    return taxonomy.codes, taxonomy.parent


def _popularity(leaves: int, seed: int) -> np.ndarray:
    """Zipf-like popularity over the leaves, the same ranking for every city.

    A shared ranking (seeded independently of the city) keeps popular hobbies popular
    on both sides, as they are in reality.
    """
    ranks = np.random.default_rng(seed ^ 0x7A1F).permutation(leaves) + 1
    weights = 1.0 / ranks.astype(np.float64) ** ZIPF_EXPONENT
    return weights / weights.sum()


def _pick_interests(rng: np.random.Generator, n: int, popularity: np.ndarray) -> list[np.ndarray]:
    """Distinct interests per resident, drawn by popularity (Gumbel top-k)."""
    counts = rng.integers(MIN_INTERESTS, MAX_INTERESTS + 1, size=n)
    log_p = np.log(popularity)
    chosen: list[np.ndarray] = []
    for start in range(0, n, 8192):
        stop = min(n, start + 8192)
        keys = log_p[None, :] + rng.gumbel(size=(stop - start, popularity.size))
        top = np.argsort(-keys, axis=1)[:, :MAX_INTERESTS]
        chosen.extend(top[i - start, : counts[i]] for i in range(start, stop))
    return chosen


def _languages(
    rng: np.random.Generator, city: CityLanguages, n: int
) -> list[tuple[dict[str, str], tuple[str, ...]]]:
    """Spoken languages with levels and languages being learnt, drawn for all at once."""
    other = rng.random(n) < city.other_native_share
    other_code = rng.choice(len(city.other_natives), size=n)
    other_level = rng.choice(("B2", "C1", "C2"), size=n)
    foreign = []
    for code, share, levels in city.foreign:
        p = np.asarray(levels) / sum(levels)
        foreign.append((code, rng.random(n) < share, rng.choice(6, size=n, p=p)))
    learns = [(code, rng.random(n) < share) for code, share in city.learning]
    result: list[tuple[dict[str, str], tuple[str, ...]]] = []
    for i in range(n):
        languages: dict[str, str] = {}
        if other[i]:
            languages[city.other_natives[other_code[i]]] = "native"
            languages[city.native] = str(other_level[i])
        else:
            languages[city.native] = "native"
        for code, knows, level in foreign:
            if knows[i] and code not in languages:
                languages[code] = CEFR_LEVELS[level[i]]
        learning = tuple(
            sorted(code for code, mask in learns if mask[i] and languages.get(code) != "native")
        )
        result.append((languages, learning))
    return result


def _kinds(rng: np.random.Generator, n: int) -> list[Kind]:
    names = [kind for kind, _ in KIND_SHARES]
    shares = np.array([share for _, share in KIND_SHARES])
    return [names[i] for i in rng.choice(len(names), size=n, p=shares / shares.sum())]


def _ages(
    rng: np.random.Generator, kinds: Sequence[Kind]
) -> list[tuple[str | None, tuple[str, ...]]]:
    """A decade for persons, a grade band for classes, children's bands for families."""
    n = len(kinds)
    shares = np.asarray(PERSON_AGE_SHARES)
    decade = rng.choice(len(shares), size=n, p=shares / shares.sum())
    grade = rng.integers(len(GRADE_BANDS), size=n)
    children = rng.random(size=(n, len(CHILD_AGE_BANDS))) < 0.45
    result: list[tuple[str | None, tuple[str, ...]]] = []
    for i, kind in enumerate(kinds):
        if kind == "person":
            result.append((PERSON_AGE_BANDS[decade[i]], ()))
        elif kind == "school_class":
            result.append((GRADE_BANDS[grade[i]], ()))
        elif kind == "family":
            bands = tuple(
                band for band, has in zip(CHILD_AGE_BANDS, children[i], strict=True) if has
            )
            result.append((None, bands))
        else:
            result.append((None, ()))
    return result


def _occupations(rng: np.random.Generator, kinds: Sequence[Kind]) -> list[str | None]:
    n = len(kinds)
    gives = rng.random(n) < OCCUPATION_SHARE
    code = rng.integers(len(ISCO_SUB_MAJOR), size=n)
    major_only = rng.random(n) < MAJOR_ONLY_SHARE
    result: list[str | None] = []
    for i, kind in enumerate(kinds):
        if kind != "person" or not gives[i]:
            result.append(None)
        else:
            full = ISCO_SUB_MAJOR[code[i]]
            result.append(full[0] if major_only[i] else full)
    return result


def _ids(rng: np.random.Generator, host: str, n: int) -> list[str]:
    seen: set[str] = set()
    ids: list[str] = []
    while len(ids) < n:
        for value in rng.integers(0, 2**63, size=n - len(ids), dtype=np.int64):
            pseudonym = f"https://{host}/p/{int(value):016x}"
            if pseudonym not in seen:
                seen.add(pseudonym)
                ids.append(pseudonym)
    return ids


def generate_population(
    city: str,
    n: int,
    seed: int,
    *,
    codes: Sequence[str] | None = None,
    parent: Callable[[str], str | None] | None = None,
) -> list[InterestProfile]:
    """``n`` synthetic residents of ``city`` ("oldenburg", "cholet" or any other name).

    Deterministic for a given seed and city. ``codes``/``parent`` default to the shipped
    taxonomy (or the synthetic one when it is missing).
    """
    if codes is None or parent is None:
        codes, parent = default_taxonomy()
    leaves = [code for code in codes if parent(code) is not None]
    city_key = city.lower()
    city_seed = int.from_bytes(city_key.encode()[:8].ljust(8, b"\0"), "little")
    rng = np.random.default_rng([seed, city_seed])
    languages = CITY_LANGUAGES.get(city_key, CITY_LANGUAGES["oldenburg"])
    host = CITY_HOSTS.get(city_key, f"{city_key}.example")

    popularity = _popularity(len(leaves), seed)
    interests = _pick_interests(rng, n, popularity)
    generalise = rng.random(size=(n, MAX_INTERESTS)) < GENERALISED_SHARE
    kinds = _kinds(rng, n)
    ids = _ids(rng, host, n)

    spoken = _languages(rng, languages, n)
    ages = _ages(rng, kinds)
    occupations = _occupations(rng, kinds)
    parents = [parent(leaf) or leaf for leaf in leaves]

    residents: list[InterestProfile] = []
    for i in range(n):
        held = {
            parents[j] if generalise[i, pos] else leaves[j] for pos, j in enumerate(interests[i])
        }
        languages_i, learning = spoken[i]
        age_band, children = ages[i]
        residents.append(
            InterestProfile(
                id=ids[i],
                kind=kinds[i],
                interests=tuple(sorted(held)),
                occupation=occupations[i],
                languages=languages_i,
                learning=learning,
                age_band=age_band,
                children_age_bands=children,
                updated=UPDATED,
            )
        )
    return residents
