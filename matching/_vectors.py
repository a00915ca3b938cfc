"""The parts of the score vectors, computed for many residents at once.

Same numbers as ``score.py``, which scores one pair at a time for reading; here a whole
side is done in a few array operations, because the scalar code would take minutes for
two cities. Every value is an integer, so the two computations agree exactly.

Attributes whose effect depends on both residents at once (occupation, age, languages)
are not vectorised per resident: residents are grouped by the attribute's distinct
values, and the rule runs once per pair of *values*, of which there are few.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from matching._arrays import Int64Array
from matching._touched import Touched, touched_levels
from matching.gates import KindGates, Speaking, kinds_fit, native_codes, usable_codes
from matching.profile import InterestProfile
from matching.score import (
    INTEREST_UNITS,
    ROLLUP_SHIFT,
    RarityWeights,
    age_bands,
    age_units,
    occupation_units,
    speaking_units,
)

Attribute = Callable[[InterestProfile], Hashable]


@dataclass(frozen=True, slots=True, eq=False)
class SparseInterests:
    """Quantised interest vectors of many residents, as coordinate lists.

    Coordinates rather than a dense matrix: a resident holds a handful of a few hundred
    dimensions, and the dense form of a whole city would be mostly zeros.
    """

    resident: Int64Array  # sorted
    dim: Int64Array
    value: Int64Array  # > 0


def _isqrt(m: Int64Array) -> Int64Array:
    """Exact integer square root of non-negative int64 values below 2**53.

    The float root can be one off; the corrections make it the same integer as
    ``math.isqrt`` in ``score.py`` on every platform.
    """
    root = np.floor(np.sqrt(m.astype(np.float64))).astype(np.int64)
    root -= (root * root > m).astype(np.int64)
    root += ((root + 1) * (root + 1) <= m).astype(np.int64)
    return root


def sparse_interests(
    residents: Sequence[InterestProfile], weights: RarityWeights, touched: Touched | None = None
) -> SparseInterests:
    """The vectors of ``score.interest_vector`` for all residents at once; ``touched`` is
    what :func:`~matching.score.weights_and_touched` found for the same residents."""
    if touched is None:
        touched = touched_levels(residents, weights.index, weights.ancestors)
    owner, dims, level = touched
    w = np.asarray(weights.weights, dtype=np.int64)
    raw = w[dims] >> (ROLLUP_SHIFT * level)
    norm2 = np.bincount(owner, weights=(raw * raw).astype(np.float64), minlength=len(residents))
    safe = np.maximum(norm2.astype(np.int64)[owner], 1)
    quantised = _isqrt(raw * raw * INTEREST_UNITS // safe)
    keep = quantised > 0
    return SparseInterests(owner[keep], dims[keep], quantised[keep])


def language_signature(resident: InterestProfile) -> Hashable:
    """What the kind gate, the language gate and the language term depend on."""
    return (
        resident.kind,
        tuple(sorted(usable_codes(resident.languages))),
        tuple(sorted(native_codes(resident.languages))),
        tuple(sorted(set(resident.learning))),
    )


@dataclass(frozen=True, slots=True, eq=False)
class Keys:
    """Distinct values of some attribute: an id per resident and one example each.

    An example resident stands for its value, so the scalar rules of ``score.py`` can
    be applied to it unchanged.
    """

    ids: Int64Array  # per resident
    examples: tuple[InterestProfile, ...]


def distinct(
    residents: Sequence[InterestProfile], attribute: Attribute, inputs: Attribute | None = None
) -> Keys:
    """Group residents by ``attribute(resident)``, keys numbered in first-seen order.

    ``inputs`` names what the attribute is computed from, when that is cheaper to read
    than the attribute (a language signature builds and sorts sets): the attribute is
    then worked out once per distinct input instead of once per resident.
    """
    seen: dict[Hashable, int] = {}
    known: dict[Hashable, int] = {}
    examples: list[InterestProfile] = []
    ids = np.empty(len(residents), dtype=np.int64)
    read = inputs or attribute
    for i, resident in enumerate(residents):
        raw = read(resident)
        found = known.get(raw)
        if found is None:
            key = attribute(resident) if inputs is not None else raw
            found = seen.get(key)
            if found is None:
                found = seen[key] = len(examples)
                examples.append(resident)
            known[raw] = found
        ids[i] = found
    return Keys(ids, tuple(examples))


def language_inputs(resident: InterestProfile) -> Hashable:
    """Everything :func:`language_signature` reads, as it is stored."""
    return (resident.kind, tuple(resident.languages.items()), resident.learning)


def language_keys(residents: Sequence[InterestProfile]) -> Keys:
    """Residents grouped by their language signature."""
    return distinct(residents, language_signature, language_inputs)


def occupation_key(resident: InterestProfile) -> Hashable:
    return resident.occupation or None


def age_key(resident: InterestProfile) -> Hashable:
    return age_bands(resident)


def occupation_table(left: Keys, right: Keys) -> Int64Array:
    """Occupation units for every pair of keys (left key × right key)."""
    return np.array(
        [
            [occupation_units(a.occupation, b.occupation) for b in right.examples]
            for a in left.examples
        ],
        dtype=np.int64,
    ).reshape(len(left.examples), len(right.examples))


def age_table(left: Keys, right: Keys) -> Int64Array:
    """Age units for every pair of keys (left key × right key)."""
    return np.array(
        [[age_units(age_bands(a), age_bands(b)) for b in right.examples] for a in left.examples],
        dtype=np.int64,
    ).reshape(len(left.examples), len(right.examples))


def language_table(left: Keys, right: Keys, kind_gates: KindGates) -> Int64Array:
    """Language units per pair of signatures, 0 where a gate fails."""
    left_speaking = [Speaking.of(a) for a in left.examples]
    right_speaking = [Speaking.of(b) for b in right.examples]
    return np.array(
        [
            [
                speaking_units(sa, sb) if kinds_fit(a.kind, b.kind, kind_gates) else 0
                for b, sb in zip(right.examples, right_speaking, strict=True)
            ]
            for a, sa in zip(left.examples, left_speaking, strict=True)
        ],
        dtype=np.int64,
    ).reshape(len(left.examples), len(right.examples))
