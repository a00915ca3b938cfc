"""Which interest dimensions each of many residents touches, and how closely.

Both the rarity weights (how many residents touch a dimension) and the interest vectors
(how much each touched dimension counts) start from the same question, asked of a whole
city at once; ``score.touched_dimensions`` answers it for one resident, and both must
agree (tests compare them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import chain, repeat
from operator import attrgetter

import numpy as np

from matching._arrays import Int64Array
from matching.profile import InterestProfile

Touched = tuple[Int64Array, Int64Array, Int64Array]
"""(resident, dimension, level) of every touched dimension, by resident then dimension."""

_interests_of = attrgetter("interests")

_UNTOUCHED = 255
"""Level of a dimension a resident does not touch (taxonomies are a few levels deep)."""


def _ancestor_table(ancestors: Sequence[tuple[int, ...]]) -> Int64Array:
    depth = max((len(line) for line in ancestors), default=0)
    table = np.full((len(ancestors), depth), -1, dtype=np.int64)
    for dim, line in enumerate(ancestors):
        table[dim, : len(line)] = line
    return table


def touched_levels(
    residents: Sequence[InterestProfile],
    index: Mapping[str, int],
    ancestors: Sequence[tuple[int, ...]],
) -> Touched:
    """(resident, dimension, level) of every dimension a resident touches, sorted by
    resident then dimension; level 0 = held directly, else how many levels above a held
    interest (the nearest wins). Codes outside ``index`` are ignored."""
    # Iterated by map and chain rather than generators: a city has a million codes.
    interests = list(map(_interests_of, residents))
    counts = np.fromiter(map(len, interests), np.int64, count=len(residents))
    flat = list(chain.from_iterable(interests))
    dims = np.fromiter(map(index.get, flat, repeat(-1)), np.int64, count=len(flat))
    owner = np.repeat(np.arange(len(residents), dtype=np.int64), counts)
    known = dims >= 0
    owner, dims = owner[known], dims[known]
    table = _ancestor_table(ancestors)
    if table.shape[1] >= _UNTOUCHED:
        raise ValueError("taxonomy too deep")
    n_dims = max(len(ancestors), 1)
    # A byte per resident and dimension (57 MB for two cities of 230,000), written from
    # the farthest level to the nearest so the nearest wins; a flat scan then yields the
    # pairs already sorted, with no sort.
    levels = np.full(len(residents) * n_dims, _UNTOUCHED, dtype=np.uint8)
    for step in range(table.shape[1], 0, -1):
        ancestor = table[dims, step - 1]
        has = ancestor >= 0
        levels[owner[has] * n_dims + ancestor[has]] = step
    levels[owner * n_dims + dims] = 0
    pair = np.flatnonzero(levels != _UNTOUCHED)
    return pair // n_dims, pair % n_dims, levels[pair].astype(np.int64)
