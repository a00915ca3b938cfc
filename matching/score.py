"""The score of a pair, written for reading: the reference the fast engine must equal.

Both nodes of a pair compute every score themselves and must agree to the last bit,
otherwise the two cities would show different suggestions and different twins. Floating
point sums do not guarantee that (their result depends on summation order, which
differs between BLAS builds, thread counts and CPUs), so a score is an exact integer
number of *score units* instead:

* the interest vector of a resident is quantised to integers whose squared length is at
  most ``INTEREST_UNITS``, so the interest term is an integer dot product;
* occupation, language and age terms are fixed integer amounts.

Every partial sum stays below 2**24, so even a float32 matrix product computes these
integers exactly, in any order. The score shown is ``units / SCORE_UNITS``, one
correctly rounded division, identical everywhere; ties are real ties.

The nominal weights of the four terms are 0.60 interests, 0.15 occupation,
0.15 language, 0.10 age (see the ``*_UNITS`` constants).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from matching._touched import Touched, touched_levels
from matching.gates import DEFAULT_KIND_GATES, KindGates, Speaking, kinds_fit
from matching.profile import CHILD_AGE_BANDS, GRADE_BANDS, PERSON_AGE_BANDS, InterestProfile

ParentOf = Callable[[str], "str | None"]

INTEREST_SCALE = 2240
"""Fixed-point scale of a unit interest vector: each component is ``floor(u * scale)``."""

INTEREST_UNITS = INTEREST_SCALE * INTEREST_SCALE
"""The interest term of two identical interest vectors: the dominant weight, 0.60."""

OCCUPATION_UNITS = 1_254_400
"""Same two-digit ISCO sub-major group; the same major group earns half. Weight 0.15."""

LANGUAGE_UNITS = 1_254_400
"""A language tandem; a merely common language (both fluent: CEFR B1 or better) earns
half. Weight 0.15.

A tandem ranks higher because both sides gain something from every meeting."""

AGE_UNITS = 836_266
"""Same age band; an adjacent band, or no band on either side, earns half. Weight 0.10."""

SCORE_UNITS = INTEREST_UNITS + OCCUPATION_UNITS + LANGUAGE_UNITS + AGE_UNITS
"""A perfect score. Below 2**24, so float32 products of the unit vectors stay exact."""

ROLLUP_SHIFT = 1
"""A category enclosing a resident's interest counts with its weight halved per level.

So ``sport.cycling`` and ``sport.running`` still share a little (``sport``), but far less
than two cyclists do."""

WEIGHT_RESOLUTION = 1000
"""Rarity weights are integers in thousandths: a last-bit difference in a logarithm on
another platform cannot then change a quantised vector."""

_BAND_ORDERS: tuple[tuple[str, ...], ...] = (PERSON_AGE_BANDS, GRADE_BANDS, CHILD_AGE_BANDS)


@dataclass(frozen=True, slots=True)
class RarityWeights:
    """How much a shared interest says, per code: IDF over both sides' residents.

    Computed from the union of both sides, which both nodes hold, so both compute the
    same weights. ``codes`` fixes the dimension order of the interest vector;
    ``ancestors[i]`` are the dimensions enclosing ``codes[i]``, nearest first.
    """

    codes: tuple[str, ...]
    weights: tuple[int, ...]
    ancestors: tuple[tuple[int, ...], ...]
    population: int
    index: Mapping[str, int] = field(compare=False, repr=False)


def _ancestor_chain(code: str, parent: ParentOf, index: Mapping[str, int]) -> tuple[int, ...]:
    chain: list[int] = []
    current = parent(code)
    while current is not None:
        if current in index:
            chain.append(index[current])
        current = parent(current)
    return tuple(chain)


def touched_dimensions(
    interests: Iterable[str], index: Mapping[str, int], ancestors: Sequence[tuple[int, ...]]
) -> dict[int, int]:
    """Dimension → how many levels above a held interest it is (0 = held directly).

    Codes outside the taxonomy version in use are ignored rather than guessed at.
    """
    depth: dict[int, int] = {}
    for code in interests:
        dim = index.get(code)
        if dim is None:
            continue
        depth[dim] = 0
        for level, anc in enumerate(ancestors[dim], start=1):
            if depth.get(anc, level + 1) > level:
                depth[anc] = level
    return depth


def rarity_weights(
    profiles: Iterable[InterestProfile], codes: Sequence[str], parent: ParentOf
) -> RarityWeights:
    """IDF weights from the union of both sides: rare shared interests say more.

    A dimension's document frequency counts residents who hold the code or one of its
    children, because that is when the dimension is non-zero in their vector.
    ``1 + ln((1 + N) / (1 + df))`` never reaches zero, so even a very common interest
    still counts a little.
    """
    return weights_and_touched(list(profiles), codes, parent)[0]


def weights_and_touched(
    residents: Sequence[InterestProfile], codes: Sequence[str], parent: ParentOf
) -> tuple[RarityWeights, Touched]:
    """:func:`rarity_weights`, with the dimensions each resident touches that they were
    counted from: a full run makes the interest vectors from those, without reading
    every resident's interests a second time."""
    ordered = tuple(codes)
    index = {code: i for i, code in enumerate(ordered)}
    ancestors = tuple(_ancestor_chain(code, parent, index) for code in ordered)
    population = len(residents)
    touched = touched_levels(residents, index, ancestors)
    frequency = np.bincount(touched[1], minlength=len(ordered)).tolist()
    weights = tuple(
        round(WEIGHT_RESOLUTION * (1.0 + math.log((1 + population) / (1 + df)))) for df in frequency
    )
    return RarityWeights(ordered, weights, ancestors, population, index), touched


def interest_vector(profile: InterestProfile, weights: RarityWeights) -> dict[int, int]:
    """The quantised, rarity-weighted unit interest vector: dimension → integer component.

    Integer arithmetic only (``isqrt``), so every platform gets the same components and
    the squared length never exceeds ``INTEREST_UNITS``.
    """
    raw = {
        dim: weights.weights[dim] >> (ROLLUP_SHIFT * level)
        for dim, level in touched_dimensions(
            profile.interests, weights.index, weights.ancestors
        ).items()
    }
    norm2 = sum(v * v for v in raw.values())
    if norm2 == 0:
        return {}
    vector = {dim: math.isqrt(v * v * INTEREST_UNITS // norm2) for dim, v in raw.items()}
    return {dim: q for dim, q in vector.items() if q}


def interest_units(a: InterestProfile, b: InterestProfile, weights: RarityWeights) -> int:
    """Cosine of the rarity-weighted interest vectors, in units of ``INTEREST_UNITS``."""
    va = interest_vector(a, weights)
    vb = interest_vector(b, weights)
    return sum(q * vb[dim] for dim, q in va.items() if dim in vb)


def occupation_units(a: str | None, b: str | None) -> int:
    """Shared ISCO-08 prefix: two digits full, the major group (first digit) half.

    No occupation on either side earns nothing: absence is no evidence of closeness.
    A code generalised to its major group can only ever share the major group.
    """
    if not a or not b:
        return 0
    if len(a) >= 2 and a[:2] == b[:2]:
        return OCCUPATION_UNITS
    if a[0] == b[0]:
        return OCCUPATION_UNITS // 2
    return 0


def age_bands(profile: InterestProfile) -> tuple[str, ...]:
    """The bands that describe a resident: own band and, for families, the children's."""
    bands = set(profile.children_age_bands)
    if profile.age_band:
        bands.add(profile.age_band)
    return tuple(sorted(bands))


def _band_closeness2(x: str, y: str) -> int:
    """Closeness of two bands in halves: 2 same, 1 adjacent in the same scale, else 0."""
    if x == y:
        return 2
    for order in _BAND_ORDERS:
        if x in order and y in order:
            return 1 if abs(order.index(x) - order.index(y)) == 1 else 0
    return 0


def age_units(a: Sequence[str], b: Sequence[str]) -> int:
    """Closest pair of bands; a side without any band is neutral (half), not a mismatch."""
    if not a or not b:
        return AGE_UNITS // 2
    best = max(_band_closeness2(x, y) for x in a for y in b)
    return AGE_UNITS * best // 2


def language_units(a: InterestProfile, b: InterestProfile) -> int:
    """Tandem full, a common usable language half, neither 0 (the language gate fails)."""
    return speaking_units(Speaking.of(a), Speaking.of(b))


def speaking_units(a: Speaking, b: Speaking) -> int:
    """:func:`language_units` from languages worked out beforehand."""
    if a.has_tandem_with(b):
        return LANGUAGE_UNITS
    if a.shares_usable_with(b):
        return LANGUAGE_UNITS // 2
    return 0


def score_units(
    a: InterestProfile,
    b: InterestProfile,
    weights: RarityWeights,
    kind_gates: KindGates = DEFAULT_KIND_GATES,
) -> int:
    """The exact score in units; 0 when a gate fails (then the pair is no candidate)."""
    if not kinds_fit(a.kind, b.kind, kind_gates):
        return 0
    language = language_units(a, b)
    if not language:
        return 0
    return (
        interest_units(a, b, weights)
        + occupation_units(a.occupation, b.occupation)
        + language
        + age_units(age_bands(a), age_bands(b))
    )


def units_to_score(units: int) -> float:
    """The shown score in [0, 1]; one correctly rounded division, the same on every node."""
    return units / SCORE_UNITS


def score(
    a: InterestProfile,
    b: InterestProfile,
    weights: RarityWeights,
    kind_gates: KindGates = DEFAULT_KIND_GATES,
) -> float:
    """How well two residents "tick" alike, symmetric, in [0, 1]; 0 if a gate fails."""
    return units_to_score(score_units(a, b, weights, kind_gates))
