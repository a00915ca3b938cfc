"""The checker of the twins' promise: no blocking pair among all gate-passing pairs.

A pair (row ``p``, column ``h``) that passes the gates *blocks* when both would rather
be twins than keep what they have: ``p`` has no twin or prefers ``h`` to it (higher
score, ties by the lower index), and ``h`` has a free place or prefers ``p`` to the
weakest twin it holds. The check scores every gated pair of both cities, with the
engine's vectors but none of its selection: a full multiply, compared block by block.
"""

from __future__ import annotations

import numpy as np

from matching.candidates import PairVectors
from matching.twin import Twins, capacity_for

__all__ = ["blocking_pairs"]


def _weakest_held(twins: Twins, hospitals: int, capacity: int) -> tuple[np.ndarray, np.ndarray]:
    """Per hospital: units and index of its weakest twin; units -1 while it has room."""
    proposer = np.flatnonzero(twins.hospital >= 0)
    hospital, units = twins.hospital[proposer], twins.units[proposer]
    # Weakest: lowest score, then the highest index (a hospital prefers lower indices).
    order = np.lexsort((-proposer, units, hospital))
    hospital, units, proposer = hospital[order], units[order], proposer[order]
    first = np.searchsorted(hospital, np.arange(hospitals))
    held = np.bincount(hospital, minlength=hospitals)
    full = held >= capacity
    weakest_units = np.full(hospitals, -1, dtype=np.int64)
    weakest = np.full(hospitals, -1, dtype=np.int64)
    weakest_units[full] = units[first[full]]
    weakest[full] = proposer[first[full]]
    return weakest_units, weakest


def blocking_pairs(vectors: PairVectors, twins: Twins) -> int:
    """How many gated pairs block ``twins`` (0 for a stable assignment)."""
    capacity = capacity_for(vectors.rows, vectors.columns)
    bar_units, bar_proposer = _weakest_held(twins, vectors.columns, capacity)
    # Scores are integers below 2**24: exact in float32, compared without widening.
    twin_units = twins.units.astype(np.float32)
    bar = bar_units.astype(np.float32)
    found = 0
    everyone = np.arange(vectors.rows, dtype=np.intp)
    for rows, columns, units in vectors.row_scores().blocks(everyone):
        mine = twin_units[rows][:, None]
        row_wants = (units > mine) | (
            (units == mine) & (columns[None, :] < twins.hospital[rows][:, None])
        )
        theirs = bar[columns][None, :]
        column_wants = (units > theirs) | (
            (units == theirs) & (rows[:, None] < bar_proposer[columns][None, :])
        )
        found += int(np.count_nonzero(row_wants & column_wants))
    return found
