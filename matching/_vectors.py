"""Residents as integer score vectors, for the engine: the same numbers as ``score.py``.

A pair's score is the dot product of a *left* and a *right* vector (``left(a) ·
right(b)``), laid out as:

* interests: the quantised interest vector on both sides;
* occupation and age: a one-hot of the resident's key on the left, the row of the
  closeness table for the other's key on the right, so the product picks the table
  entry (any function of two small keys is bilinear this way);
* language: one column, 1 on the left; the right holds the language units for the
  row's *language class*, filled in per class by the engine, because the language term
  depends on both sides' languages at once and is also the gate.

All entries are integers and every product sum stays below 2**24, so float32 matrix
products compute the scores exactly (see ``score.py``).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

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


@dataclass(frozen=True, slots=True)
class SparseInterests:
    """Quantised interest vectors of many residents, as coordinate lists."""

    resident: np.ndarray  # int64, sorted
    dim: np.ndarray  # int64
    value: np.ndarray  # int64, > 0


def _isqrt(m: np.ndarray) -> np.ndarray:
    """Exact integer square root of non-negative int64 values below 2**53."""
    root = np.floor(np.sqrt(m.astype(np.float64))).astype(np.int64)
    root -= (root * root > m).astype(np.int64)
    root += ((root + 1) * (root + 1) <= m).astype(np.int64)
    return root


def _ancestor_table(weights: RarityWeights) -> np.ndarray:
    depth = max((len(chain) for chain in weights.ancestors), default=0)
    table = np.full((len(weights.codes), depth), -1, dtype=np.int64)
    for dim, chain in enumerate(weights.ancestors):
        table[dim, : len(chain)] = chain
    return table


def sparse_interests(
    residents: Sequence[InterestProfile], weights: RarityWeights
) -> SparseInterests:
    """The vectors of ``score.interest_vector`` for all residents at once."""
    index = weights.index
    held = [[index[c] for c in r.interests if c in index] for r in residents]
    counts = np.fromiter((len(h) for h in held), dtype=np.int64, count=len(held))
    dims = np.fromiter((d for h in held for d in h), dtype=np.int64, count=int(counts.sum()))
    owner = np.repeat(np.arange(len(residents), dtype=np.int64), counts)
    level = np.zeros_like(dims)

    table = _ancestor_table(weights)
    owners, all_dims, levels = [owner], [dims], [level]
    for step in range(table.shape[1]):
        anc = table[dims, step]
        has = anc >= 0
        owners.append(owner[has])
        all_dims.append(anc[has])
        levels.append(np.full(int(has.sum()), step + 1, dtype=np.int64))
    owner = np.concatenate(owners)
    dims = np.concatenate(all_dims)
    level = np.concatenate(levels)

    # The nearest level wins (a held category beats the same category rolled up).
    n_dims = max(len(weights.codes), 1)
    key = owner * n_dims + dims
    order = np.lexsort((level, key))
    key, level = key[order], level[order]
    first = np.ones(key.size, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    key, level = key[first], level[first]
    owner, dims = key // n_dims, key % n_dims

    w = np.asarray(weights.weights, dtype=np.int64)
    raw = w[dims] >> (ROLLUP_SHIFT * level)
    norm2 = np.bincount(owner, weights=(raw * raw).astype(np.float64), minlength=len(residents))
    norm2 = norm2.astype(np.int64)
    safe = np.maximum(norm2[owner], 1)
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


@dataclass(frozen=True, slots=True)
class Keys:
    """Distinct values of some attribute: an id per resident and one example each."""

    ids: np.ndarray  # int64 per resident
    examples: tuple[InterestProfile, ...]


def distinct(residents: Sequence[InterestProfile], attribute: object) -> Keys:
    """Group residents by ``attribute(resident)``, keys numbered in first-seen order."""
    seen: dict[Hashable, int] = {}
    examples: list[InterestProfile] = []
    ids = np.empty(len(residents), dtype=np.int64)
    for i, resident in enumerate(residents):
        key = attribute(resident)  # type: ignore[operator]
        found = seen.get(key)
        if found is None:
            found = seen[key] = len(examples)
            examples.append(resident)
        ids[i] = found
    return Keys(ids, tuple(examples))


def occupation_key(resident: InterestProfile) -> Hashable:
    return resident.occupation or None


def age_key(resident: InterestProfile) -> Hashable:
    return age_bands(resident)


def occupation_table(left: Keys, right: Keys) -> np.ndarray:
    """Occupation units for every pair of keys (left key × right key)."""
    return np.array(
        [
            [occupation_units(a.occupation, b.occupation) for b in right.examples]
            for a in left.examples
        ],
        dtype=np.int64,
    ).reshape(len(left.examples), len(right.examples))


def age_table(left: Keys, right: Keys) -> np.ndarray:
    """Age units for every pair of keys (left key × right key)."""
    return np.array(
        [[age_units(age_bands(a), age_bands(b)) for b in right.examples] for a in left.examples],
        dtype=np.int64,
    ).reshape(len(left.examples), len(right.examples))


def language_table(left: Keys, right: Keys, kind_gates: KindGates) -> np.ndarray:
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
