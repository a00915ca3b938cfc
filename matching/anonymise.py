"""k-anonymity by generalisation, per value and per combination.

Before a node publishes its residents' interest vectors, it coarsens them until no
published value and no published combination of the quasi-identifiers points at fewer
than ``k`` of its residents. Everything is counted **within the resident's kind**: five
clubs that hold "sport.rowing" do not hide the one person who does.

Per value (every field):

* an interest climbs the taxonomy (``sport.cycling`` → ``sport``) and is dropped when
  it has no parent or the parent is still held by fewer than ``k`` residents after
  everything rare below it has climbed;
* an occupation climbs ISCO-08 (``"23"`` → ``"2"``) and is dropped likewise;
* a spoken language is a *language-level pair* (``("de", "native")``) whose parent chain
  is ``native`` → ``fluent`` → ``basic`` → dropped: a rare native speaker is published as
  fluent, which is still true and is what the gates use;
* age bands, children's age bands and learning languages have no parent and are dropped.

Per combination: the *quasi-identifiers* — kind, age band, occupation and the set of
(language, level) pairs — are what someone who knows a resident can look up, so the
combination must be shared by at least ``k`` published residents of the kind. A rare
combination is generalised one step at a time, always in the same order:

1. the occupation to its ISCO major group (one digit);
2. the age band is dropped (see below);
3. one language at a time, weakest level first, then by code;
4. the occupation is dropped.

A band is "widened" by dropping it: a wider band would be a new wire value, refused by
a peer that does not know it, and a new rule in the exact score both nodes must share;
a missing band already has a defined, neutral place in the score (half the age units).

Each combination has exactly one parent, so the combinations form a tree and the rule
is the per-value rule again: a combination is *common* when at least ``k`` residents
arrive at it (hold it, or hold a rare combination below it that climbs to it), and a
resident's combination climbs until it reaches a common one. A resident who arrives at
the empty combination (no occupation, no band, no language) while fewer than ``k``
residents of their kind arrive there is **withheld**: published to no peer at all.

Both rules hold together: the combination step only runs on values the per-value step
let through and only coarsens them further, and every value left in a combination is
held by its whole class of at least ``k`` published residents. Interests, learning
languages and children's bands are not part of the combination; they are counted over
everybody taking part, withheld residents included (a peer cannot tell who is withheld).

Values are counted once per resident, never once per mention, and the result does not
depend on the order of the input.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TypeVar

from matching.languages import coarse_languages, coarse_rank
from matching.occupations import Occupations, load_occupations
from matching.profile import InterestProfile
from matching.taxonomy import Taxonomy

V = TypeVar("V", bound=Hashable)
Parent = Callable[[V], V | None]

LanguagePair = tuple[str, str]
"""A spoken language and its wire level: ``("de", "native")``."""

Combination = tuple[str | None, str | None, tuple[LanguagePair, ...]]
"""The quasi-identifiers besides the kind: occupation, age band, sorted language pairs."""

_LEVEL_PARENT: Mapping[str, str | None] = {"native": "fluent", "fluent": "basic", "basic": None}


def language_parent(pair: LanguagePair) -> LanguagePair | None:
    """``native`` → ``fluent`` → ``basic`` → dropped."""
    code, level = pair
    parent = _LEVEL_PARENT.get(level)
    return None if parent is None else (code, parent)


def _drop_order(pair: LanguagePair) -> tuple[int, str]:
    return coarse_rank(pair[1]), pair[0]


def combination_parent(key: Combination) -> Combination | None:
    """The next coarser combination, in the fixed order of the module docstring.

    A function of the combination alone, so that every resident holding it climbs the
    same way and the combinations form a tree.
    """
    occupation, band, pairs = key
    if occupation is not None and len(occupation) > 1:
        return occupation[:1], band, pairs
    if band is not None:
        return occupation, None, pairs
    if pairs:
        weakest = min(pairs, key=_drop_order)
        return occupation, band, tuple(p for p in pairs if p != weakest)
    if occupation is not None:
        return None, band, pairs
    return None


def combination_of(profile: InterestProfile) -> Combination:
    """The quasi-identifiers of a (coarse) vector besides its kind."""
    return (
        profile.occupation or None,
        profile.age_band or None,
        tuple(sorted(coarse_languages(profile.languages).items())),
    )


def _no_parent(_value: object) -> None:
    return None


def _depth(value: V, parent: Parent[V]) -> int:
    depth = 0
    ancestor = parent(value)
    while ancestor is not None:
        depth += 1
        ancestor = parent(ancestor)
    return depth


def _generalise_values(held: list[set[V]], k: int, parent: Parent[V]) -> list[set[V]]:
    """Roll rare values up one level at a time, deepest level first.

    Going bottom-up means a parent is judged only after all of its rare
    children have been folded into it, so its count is final when it is judged;
    and values that survive at one level are never touched again, which makes
    the whole step idempotent.
    """
    depths = {value: _depth(value, parent) for values in held for value in values}
    for depth in range(max(depths.values(), default=-1), -1, -1):
        counts = Counter(v for values in held for v in values if depths.get(v) == depth)
        rare = {value for value, count in counts.items() if count < k}
        if not rare:
            continue
        for values in held:
            hit = values & rare
            if not hit:
                continue
            values -= hit
            for value in hit:
                ancestor = parent(value)
                if ancestor is not None:
                    depths.setdefault(ancestor, depth - 1)
                    values.add(ancestor)
    return held


def _single(value: V | None) -> set[V]:
    return set() if value is None else {value}


def _only(values: set[V]) -> V | None:
    return next(iter(values)) if values else None


def _generalise_kind(
    profiles: Sequence[InterestProfile], k: int, taxonomy: Taxonomy, isco: Occupations
) -> list[InterestProfile | None]:
    """Both steps for residents of one kind."""
    interests = _generalise_values(
        [{c for c in map(taxonomy.normalise, p.interests) if c is not None} for p in profiles],
        k,
        taxonomy.parent,
    )
    jobs = _generalise_values(
        [_single(isco.normalise(p.occupation) if p.occupation else None) for p in profiles],
        k,
        isco.parent,
    )
    age_bands: list[set[str]] = _generalise_values(
        [_single(p.age_band) for p in profiles], k, _no_parent
    )
    child_bands: list[set[str]] = _generalise_values(
        [set(p.children_age_bands) for p in profiles], k, _no_parent
    )
    spoken = _generalise_values(
        [set(coarse_languages(p.languages).items()) for p in profiles], k, language_parent
    )
    learning: list[set[str]] = _generalise_values(
        [set(p.learning) for p in profiles], k, _no_parent
    )
    combinations = _generalise_values(
        [
            {(_only(jobs[i]), _only(age_bands[i]), tuple(sorted(spoken[i])))}
            for i in range(len(profiles))
        ],
        k,
        combination_parent,
    )
    result: list[InterestProfile | None] = []
    for i, profile in enumerate(profiles):
        combination = _only(combinations[i])
        if combination is None:
            result.append(None)
            continue
        occupation, band, pairs = combination
        result.append(
            dataclasses.replace(
                profile,
                interests=tuple(sorted(interests[i])),
                occupation=occupation,
                languages=dict(pairs),
                learning=tuple(sorted(learning[i])),
                age_band=band,
                children_age_bands=tuple(
                    dict.fromkeys(b for b in profile.children_age_bands if b in child_bands[i])
                ),
            )
        )
    return result


def generalise(
    profiles: Sequence[InterestProfile],
    k: int,
    taxonomy: Taxonomy,
    *,
    occupations: Occupations | None = None,
) -> list[InterestProfile | None]:
    """Coarsen ``profiles`` until every value and every combination is k-anonymous.

    ``profiles`` must be all of this node's published profiles at once: the counts are
    what make a value safe. Returns, in the same order, each profile as it may be
    published (same id, kind and timestamp; languages at wire levels), or None for a
    withheld resident. Interest and occupation codes the shipped vocabularies do not
    know are first mapped to their nearest known ancestor, or dropped; CEFR levels are
    first coarsened.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    isco = occupations if occupations is not None else load_occupations()
    by_kind: dict[str, list[int]] = defaultdict(list)
    for i, profile in enumerate(profiles):
        by_kind[profile.kind].append(i)
    result: list[InterestProfile | None] = [None] * len(profiles)
    for positions in by_kind.values():
        generalised = _generalise_kind([profiles[i] for i in positions], k, taxonomy, isco)
        for i, outcome in zip(positions, generalised, strict=True):
            result[i] = outcome
    return result
