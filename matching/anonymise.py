"""k-anonymity by generalisation.

Before a node publishes its residents' interest vectors, every value that fewer
than ``k`` of its residents hold is coarsened, so that no published value
points at fewer than ``k`` people:

* an interest climbs the taxonomy (``sport.cycling`` → ``sport``) and is
  dropped when it has no parent or the parent is still held by fewer than
  ``k`` profiles after everything rare below it has climbed;
* an occupation climbs ISCO-08 (``"23"`` → ``"2"``) and is dropped likewise;
* age bands and children's age bands have no coarser band and are dropped;
* languages (spoken and learning) are not generalised: a language has no
  "parent" that still says something useful, and the level alone identifies
  nobody. But a language that fewer than ``k`` residents speak (or learn) is
  itself identifying — one Tigrinya speaker in a town of fifty thousand is a
  name — so such a code is dropped from that profile. Spoken and learning
  languages are counted separately, because "speaks Korean" and "learns
  Korean" single out different people.

Values are counted once per profile, never once per mention, and the result
does not depend on the order of the input. A larger ``k`` never publishes a
value more specific than a smaller ``k`` did; it may publish a category where
a smaller ``k`` dropped it, because more rare leaves have climbed into it and
the category has become common enough.

This is per-value anonymity: it guarantees that each published value is
shared by ``k`` profiles, not that each combination of values is.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence

from matching.occupations import Occupations, load_occupations
from matching.profile import InterestProfile
from matching.taxonomy import Taxonomy

Parent = Callable[[str], str | None]


def _no_parent(_value: str) -> str | None:
    return None


def _depth(value: str, parent: Parent) -> int:
    depth = 0
    ancestor = parent(value)
    while ancestor is not None:
        depth += 1
        ancestor = parent(ancestor)
    return depth


def _generalise_values(held: list[set[str]], k: int, parent: Parent) -> list[set[str]]:
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


def _single(value: str | None) -> set[str]:
    return set() if value is None else {value}


def _only(values: set[str]) -> str | None:
    return next(iter(values)) if values else None


def generalise(
    profiles: Sequence[InterestProfile],
    k: int,
    taxonomy: Taxonomy,
    *,
    occupations: Occupations | None = None,
) -> list[InterestProfile]:
    """Coarsen every value held by fewer than ``k`` of ``profiles``.

    ``profiles`` must be all of this node's published profiles at once: the
    counts are what make a value safe. Returns new profiles in the same order
    with the same ids, kinds and timestamps. Interest and occupation codes the
    shipped vocabularies do not know are first mapped to their nearest known
    ancestor, or dropped.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    isco = occupations if occupations is not None else load_occupations()

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
    age_bands = _generalise_values([_single(p.age_band) for p in profiles], k, _no_parent)
    child_bands = _generalise_values([set(p.children_age_bands) for p in profiles], k, _no_parent)
    spoken = _generalise_values([set(p.languages) for p in profiles], k, _no_parent)
    learning = _generalise_values([set(p.learning) for p in profiles], k, _no_parent)

    result: list[InterestProfile] = []
    for i, profile in enumerate(profiles):
        result.append(
            dataclasses.replace(
                profile,
                interests=tuple(sorted(interests[i])),
                occupation=_only(jobs[i]),
                languages={
                    code: level
                    for code, level in sorted(profile.languages.items())
                    if code in spoken[i]
                },
                learning=tuple(sorted(learning[i])),
                age_band=_only(age_bands[i]),
                children_age_bands=tuple(
                    dict.fromkeys(b for b in profile.children_age_bands if b in child_bands[i])
                ),
            )
        )
    return result
