"""The twin: a stable assignment with capacities between the two sides.

Residents of the larger side propose (they are the "residents" of the hospitals /
residents problem), residents of the smaller side accept up to ``capacity`` twins each,
``capacity = ⌈larger / smaller⌉`` so that everybody of the larger side could be placed.
Preferences are by score, ties broken by the other's id (ascending), which makes every
preference strict. With strict preferences the proposer-optimal stable assignment is
unique, so the order in which proposals are processed cannot change the outcome: both
nodes compute the same twins.

At full scale nobody can rank all 54,000 or 176,000 residents of the other side, so
preferences are the *candidate lists* of the one matching pass: a pair is acceptable
when either resident has the other among their best candidates. The guarantee is
therefore stability **with respect to the candidate lists**: no acceptable pair would
both rather be twins than keep what they have. A pair outside every list can only
"block" if both residents ended with a twin below their own candidate list's last entry
(or with none), because anybody on a resident's list scores at least as high as
anybody off it.

Residents without any acceptable pair (no gate-passing candidate) have no twin.
"""

from __future__ import annotations

import numpy as np

from matching._arrays import Int64Array, SignedArray

_PROPOSER_BITS = 24
"""Room for the proposer index in a hospital's preference key (ties by index)."""


def _edges(
    proposer: Int64Array, hospital: Int64Array, units: Int64Array
) -> tuple[Int64Array, Int64Array, Int64Array]:
    """Deduplicated acceptable pairs, in each proposer's preference order.

    One packed integer key (proposer, score descending, hospital) sorts several times
    faster than a three-key lexsort; the edge lists run into millions.
    """
    hospital_bits = int(hospital.max(initial=0)).bit_length()
    score_bits = int(units.max(initial=0)).bit_length()
    if int(proposer.max(initial=0)).bit_length() + score_bits + hospital_bits <= 63:
        top = (1 << score_bits) - 1
        key = (proposer << (score_bits + hospital_bits)) | ((top - units) << hospital_bits)
        key = np.sort(key | hospital)
        if key.size:
            fresh = np.ones(key.size, dtype=bool)
            fresh[1:] = key[1:] != key[:-1]
            key = key[fresh]
        proposer = key >> (score_bits + hospital_bits)
        units = top - ((key >> hospital_bits) & top)
        hospital = key & ((1 << hospital_bits) - 1)
        return proposer, hospital, units
    order = np.lexsort((hospital, -units, proposer))
    proposer, hospital, units = proposer[order], hospital[order], units[order]
    if proposer.size:
        fresh = np.ones(proposer.size, dtype=bool)
        fresh[1:] = (proposer[1:] != proposer[:-1]) | (hospital[1:] != hospital[:-1])
        proposer, hospital, units = proposer[fresh], hospital[fresh], units[fresh]
    return proposer, hospital, units


def stable_twins(
    proposer: SignedArray,
    hospital: SignedArray,
    units: SignedArray,
    proposers: int,
    hospitals: int,
    capacity: int,
) -> Int64Array:
    """Twin of each proposer (a hospital index, or -1), proposer-optimal and stable.

    ``(proposer[i], hospital[i], units[i])`` are the acceptable pairs with their scores
    (duplicates allowed, the score of a pair must be the same wherever it appears), of
    any integer width: candidate lists are int32, and they are widened here only.
    Proposals are processed in rounds, all free proposers at once; the outcome is the
    unique proposer-optimal stable assignment whatever the rounds look like.
    """
    if proposers >= 1 << _PROPOSER_BITS:
        raise ValueError("too many residents for the twin assignment")
    proposer, hospital, units = _edges(
        np.asarray(proposer, dtype=np.int64),
        np.asarray(hospital, dtype=np.int64),
        np.asarray(units, dtype=np.int64),
    )
    starts = np.searchsorted(proposer, np.arange(proposers + 1))
    # A hospital prefers higher scores, then lower proposer indices (= lower ids).
    key = (units << _PROPOSER_BITS) | ((1 << _PROPOSER_BITS) - 1 - proposer)

    held = np.full((hospitals, capacity), -1, dtype=np.int64)  # edge positions
    twin = np.full(proposers, -1, dtype=np.int64)
    cursor = starts[:-1].copy()
    proposed_to = np.zeros(hospitals, dtype=bool)
    free = np.flatnonzero(cursor < starts[1:])
    while free.size:
        edge = cursor[free]
        cursor[free] += 1
        proposed_to[hospital[edge]] = True
        touched = np.flatnonzero(proposed_to)
        proposed_to[touched] = False
        previous = held[touched].ravel()
        previous = previous[previous >= 0]
        pool = np.concatenate((previous, edge))
        pool_hospital = hospital[pool]
        order = np.lexsort((-key[pool], pool_hospital))
        pool, pool_hospital = pool[order], pool_hospital[order]
        first = np.searchsorted(pool_hospital, pool_hospital, side="left")
        rank = np.arange(pool.size) - first
        accepted = rank < capacity

        held[touched] = -1
        held[pool_hospital[accepted], rank[accepted]] = pool[accepted]
        twin[proposer[pool[accepted]]] = pool_hospital[accepted]
        rejected = proposer[pool[~accepted]]
        twin[rejected] = -1
        free = rejected[cursor[rejected] < starts[rejected + 1]]
    return twin


def capacity_for(larger: int, smaller: int) -> int:
    """How many twins a resident of the smaller side may have: ⌈larger / smaller⌉."""
    return -(-larger // smaller) if smaller else 0
