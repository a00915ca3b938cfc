"""The exact cut that ends every candidate list: an owner's best, ties by the other's index.

Bounds in the pass only decide what is *kept*; which candidates make a list is decided
here, on exact integer scores, so the lists are the same whatever the bounds were.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from matching._arrays import Int32Array, Int64Array

SCORE_BITS = 24
"""Score units are below 2**24 (see ``score.py``)."""


class Triples(NamedTuple):
    """Candidates as (owner, other, units): sorted by owner, score desc, then other asc.

    int32, half the memory of int64: a full run holds tens of millions of them.
    """

    owner: Int32Array
    other: Int32Array
    units: Int32Array


def _bits(values: Int64Array) -> int:
    return int(values.max(initial=0)).bit_length()


def best_per_owner(
    owner: Int64Array, other: Int64Array, units: Int64Array, length: int
) -> tuple[Int64Array, Int64Array, Int64Array]:
    """Cut candidate triples to each owner's ``length`` best, ties by the other's index.

    Sorting one packed integer key is several times faster than a three-key lexsort,
    and this runs on millions of candidates.
    """
    other_bits = _bits(other)
    if _bits(owner) + SCORE_BITS + other_bits <= 63:
        key = (owner << (SCORE_BITS + other_bits)) | (
            (((1 << SCORE_BITS) - 1 - units) << other_bits) | other
        )
        key.sort()
        owner = key >> (SCORE_BITS + other_bits)
        units = (1 << SCORE_BITS) - 1 - ((key >> other_bits) & ((1 << SCORE_BITS) - 1))
        other = key & ((1 << other_bits) - 1)
    else:
        order = np.lexsort((other, -units, owner))
        owner, other, units = owner[order], other[order], units[order]
    if owner.size:
        first = np.ones(owner.size, dtype=bool)
        first[1:] = owner[1:] != owner[:-1]
        start = np.maximum.accumulate(np.where(first, np.arange(owner.size), 0))
        keep = np.arange(owner.size) - start < length
        owner, other, units = owner[keep], other[keep], units[keep]
    return owner, other, units
