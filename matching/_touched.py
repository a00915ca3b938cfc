"""Which interest dimensions each of many residents touches, and how closely.

Both the rarity weights (how many residents touch a dimension) and the interest vectors
(how much each touched dimension counts) start from the same question, asked of a whole
city at once; ``score.touched_dimensions`` answers it for one resident, and both must
agree (tests compare them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from matching._arrays import Int64Array
from matching.profile import InterestProfile

LEVEL_BITS = 4
"""Room for the level in a packed sort key (taxonomies are a few levels deep)."""


def _ancestor_table(ancestors: Sequence[tuple[int, ...]]) -> Int64Array:
    depth = max((len(chain) for chain in ancestors), default=0)
    table = np.full((len(ancestors), depth), -1, dtype=np.int64)
    for dim, chain in enumerate(ancestors):
        table[dim, : len(chain)] = chain
    return table


def touched_levels(
    residents: Sequence[InterestProfile],
    index: Mapping[str, int],
    ancestors: Sequence[tuple[int, ...]],
) -> tuple[Int64Array, Int64Array, Int64Array]:
    """(resident, dimension, level) of every dimension a resident touches, sorted by
    resident then dimension; level 0 = held directly, else how many levels above a held
    interest (the nearest wins). Codes outside ``index`` are ignored."""
    held = [[index[c] for c in r.interests if c in index] for r in residents]
    counts = np.fromiter((len(h) for h in held), dtype=np.int64, count=len(held))
    dims = np.fromiter((d for h in held for d in h), dtype=np.int64, count=int(counts.sum()))
    owner = np.repeat(np.arange(len(residents), dtype=np.int64), counts)
    table = _ancestor_table(ancestors)
    if table.shape[1] >= 1 << LEVEL_BITS:
        raise ValueError("taxonomy too deep")
    owners, all_dims, levels = [owner], [dims], [np.zeros_like(dims)]
    for step in range(table.shape[1]):
        ancestor = table[dims, step]
        has = ancestor >= 0
        owners.append(owner[has])
        all_dims.append(ancestor[has])
        levels.append(np.full(int(has.sum()), step + 1, dtype=np.int64))
    n_dims = max(len(ancestors), 1)
    # One packed sort (resident, dimension, level), then the first of each pair wins.
    key = np.sort(
        ((np.concatenate(owners) * n_dims + np.concatenate(all_dims)) << LEVEL_BITS)
        | np.concatenate(levels)
    )
    pair = key >> LEVEL_BITS
    first = np.ones(key.size, dtype=bool)
    first[1:] = pair[1:] != pair[:-1]
    pair = pair[first]
    return pair // n_dims, pair % n_dims, key[first] & ((1 << LEVEL_BITS) - 1)
