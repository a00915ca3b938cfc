"""The twin: a stable assignment with capacities between the two sides.

Residents of the larger side propose (they are the "residents" of the hospitals /
residents problem), residents of the smaller side accept up to ``capacity`` twins each,
``capacity = ⌈larger / smaller⌉`` so that everybody of the larger side could be placed.
Preferences are by score, ties broken by the other's index (= id, the sides are sorted
by id), which makes every preference strict. With strict preferences the
proposer-optimal stable assignment is unique, so the order in which proposals are
processed cannot change the outcome: both nodes compute the same twins.

Every gate-passing pair is acceptable, so the assignment is stable among **all** gated
pairs: no two residents would both rather be each other's twins than keep what they
have. Nobody can rank the whole other city up front, and nobody needs to: a proposer
starts with the best few of its candidate list, and only one turned away by all of them
asks for more (``MoreChoices``). It is then offered only hospitals that would take it
now; any other would turn it away as well, since a hospital's bar only rises. A
proposer offered nothing more has no twin, because every gated hospital holds enough
residents it prefers.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

import numpy as np

from matching._arrays import BoolArray, Int64Array, SignedArray

_PROPOSER_BITS = 24
"""Room for the proposer index in a hospital's preference key (ties by index)."""

_PROPOSER_MASK = (1 << _PROPOSER_BITS) - 1


def hospital_keys(units: SignedArray, proposer: SignedArray) -> Int64Array:
    """How much a hospital wants each proposer: higher is better, never equal for two.

    Higher scores first, then lower proposer indices (= lower ids).
    """
    return (np.asarray(units, dtype=np.int64) << _PROPOSER_BITS) | (
        _PROPOSER_MASK - np.asarray(proposer, dtype=np.int64)
    )


class Choices(NamedTuple):
    """Acceptable pairs (proposer, hospital, units), in each proposer's preference order."""

    proposer: Int64Array
    hospital: Int64Array
    units: Int64Array


class MoreChoices(Protocol):
    """The next hospitals of proposers who were turned away by all they were offered."""

    def __call__(
        self, proposers: Int64Array, ceilings: Int64Array, bars: Int64Array, count: int
    ) -> Choices:
        """Each proposer's best ``count`` hospitals ``h`` with key above ``bars[h]``.

        The key is :func:`hospital_keys` of the pair; ``bars[h]`` is -1 for a hospital
        with a free place. ``ceilings`` (per proposer) bound the score of any hospital
        it has not been offered yet, so hospitals with higher bars need no scoring.
        Sorted by proposer, then preference.
        """


class Twins(NamedTuple):
    """Twin of each proposer (a hospital index, or -1) and the pair's score units (0)."""

    hospital: Int64Array
    units: Int64Array


MORE_CHOICES = 64
"""Hospitals offered per request for more: a proposer turned away this often asks again."""


def _distinct(ordered: Int64Array) -> Int64Array:
    """The distinct values of a sorted array (``np.unique`` hashes: slower on millions)."""
    fresh = np.ones(ordered.size, dtype=bool)
    fresh[1:] = ordered[1:] != ordered[:-1]
    return ordered[fresh]


def _preference_order(choices: Choices) -> Choices:
    """Deduplicated pairs, in each proposer's preference order.

    One packed integer key (proposer, score descending, hospital) sorts several times
    faster than a three-key lexsort; the pair lists run into millions.
    """
    proposer, hospital, units = choices
    hospital_bits = max(int(hospital.max(initial=0)).bit_length(), 1)
    score_bits = max(int(units.max(initial=0)).bit_length(), 1)
    if int(proposer.max(initial=0)).bit_length() + score_bits + hospital_bits <= 63:
        top = (1 << score_bits) - 1
        key = (proposer << (score_bits + hospital_bits)) | ((top - units) << hospital_bits)
        key = _distinct(np.sort(key | hospital))
        return Choices(
            key >> (score_bits + hospital_bits),
            key & ((1 << hospital_bits) - 1),
            top - ((key >> hospital_bits) & top),
        )
    order = np.lexsort((hospital, -units, proposer))
    proposer, hospital, units = proposer[order], hospital[order], units[order]
    fresh = np.ones(proposer.size, dtype=bool)
    fresh[1:] = (proposer[1:] != proposer[:-1]) | (hospital[1:] != hospital[:-1])
    return Choices(proposer[fresh], hospital[fresh], units[fresh])


_KEY_BITS = 24 + _PROPOSER_BITS
"""Hospital keys are below 2**48: score units below 2**24, then the proposer."""


def _by_hospital_then_key(key: Int64Array, hospital: Int64Array) -> tuple[Int64Array, Int64Array]:
    """Sorted by hospital, then key descending: one unsigned sort where both fit 64 bits."""
    if int(hospital.max(initial=0)) < 1 << (64 - _KEY_BITS):
        top = np.uint64((1 << _KEY_BITS) - 1)
        packed = np.sort(
            (hospital.astype(np.uint64) << np.uint64(_KEY_BITS)) | (top - key.astype(np.uint64))
        )
        return (top - (packed & top)).astype(np.int64), (packed >> np.uint64(_KEY_BITS)).astype(
            np.int64
        )
    order = np.lexsort((-key, hospital))
    return key[order], hospital[order]


class _Market:
    """The state of deferred acceptance: what each proposer may still ask, who holds whom."""

    def __init__(self, proposers: int, hospitals: int, capacity: int) -> None:
        self.hospital = np.empty(0, dtype=np.int64)  # per offered pair
        self.key = np.empty(0, dtype=np.int64)
        self.cursor = np.zeros(proposers, dtype=np.int64)
        self.stop = np.zeros(proposers, dtype=np.int64)
        self.held = np.full((hospitals, capacity), -1, dtype=np.int64)  # hospital keys
        self.twin = np.full(proposers, -1, dtype=np.int64)
        self.ceiling = np.full(proposers, 1 << (63 - _PROPOSER_BITS), dtype=np.int64) - 1

    def offer(self, choices: Choices, proposers: Int64Array) -> Int64Array:
        """Give ``proposers`` (ascending) these choices to go through; who has any."""
        choices = _preference_order(choices)
        base = self.hospital.size
        self.hospital = np.concatenate((self.hospital, choices.hospital))
        self.key = np.concatenate((self.key, hospital_keys(choices.units, choices.proposer)))
        bounds = base + np.searchsorted(choices.proposer, proposers)
        ends = base + np.searchsorted(choices.proposer, proposers, side="right")
        self.cursor[proposers] = bounds
        self.stop[proposers] = ends
        offered = ends > bounds
        # Preference order: the last one offered has the lowest score of them.
        self.ceiling[proposers[offered]] = choices.units[ends[offered] - base - 1]
        return proposers[offered]

    def bars(self) -> Int64Array:
        """The key a proposer must beat at each hospital: its weakest held, -1 if room."""
        full = (self.held >= 0).all(axis=1)
        bars: Int64Array = np.where(full, self.held.min(axis=1), -1)
        return bars

    def propose(self, free: Int64Array) -> Int64Array:
        """One proposal of each free proposer; returns those turned away (ascending)."""
        edge = self.cursor[free]
        self.cursor[free] += 1
        new_hospital, new_key = self.hospital[edge], self.key[edge]
        touched = _distinct(np.sort(new_hospital))
        capacity = self.held.shape[1]
        pool_key = np.concatenate((self.held[touched].ravel(), new_key))
        pool_hospital = np.concatenate((np.repeat(touched, capacity), new_hospital))
        real = pool_key >= 0
        pool_key, pool_hospital = pool_key[real], pool_hospital[real]
        pool_key, pool_hospital = _by_hospital_then_key(pool_key, pool_hospital)
        rank = np.arange(pool_key.size) - np.searchsorted(pool_hospital, pool_hospital)
        accepted = rank < capacity
        self.held[touched] = -1
        self.held[pool_hospital[accepted], rank[accepted]] = pool_key[accepted]
        self.twin[_PROPOSER_MASK - (pool_key[accepted] & _PROPOSER_MASK)] = pool_hospital[accepted]
        rejected = np.sort(_PROPOSER_MASK - (pool_key[~accepted] & _PROPOSER_MASK))
        self.twin[rejected] = -1
        return rejected

    def result(self) -> Twins:
        units = np.zeros(self.twin.size, dtype=np.int64)
        held = self.held[self.held >= 0]
        units[_PROPOSER_MASK - (held & _PROPOSER_MASK)] = held >> _PROPOSER_BITS
        return Twins(self.twin, units)


def stable_twins(
    choices: Choices,
    proposers: int,
    hospitals: int,
    capacity: int,
    *,
    complete: BoolArray | None = None,
    more: MoreChoices | None = None,
) -> Twins:
    """The proposer-optimal stable assignment (see the module documentation).

    ``choices`` are each proposer's first acceptable pairs with their scores (duplicates
    allowed; the score of a pair must be the same wherever it appears), of any integer
    width. ``complete[p]`` says that they are all of proposer ``p``'s acceptable pairs;
    for the others, ``more`` is asked once they run out. Without ``more`` the given pairs
    are all there is. Proposals are processed in rounds, all free proposers at once; the
    outcome is the same whatever the rounds look like.
    """
    if proposers >= 1 << _PROPOSER_BITS:
        raise ValueError("too many residents for the twin assignment")
    market = _Market(proposers, hospitals, capacity)
    if capacity <= 0 or hospitals == 0:
        return market.result()
    given = Choices(*(np.asarray(part, dtype=np.int64) for part in choices))
    everyone = np.arange(proposers, dtype=np.int64)
    free = market.offer(given, everyone)
    open_ended = np.zeros(proposers, dtype=bool) if complete is None else ~complete
    if more is None:
        open_ended[:] = False
    waiting = [everyone[(market.cursor == market.stop) & open_ended]]
    while True:
        while free.size:
            rejected = market.propose(free)
            has_next = market.cursor[rejected] < market.stop[rejected]
            free = rejected[has_next]
            waiting.append(rejected[~has_next & open_ended[rejected]])
        asking = np.unique(np.concatenate(waiting)) if waiting else everyone[:0]
        waiting.clear()
        if asking.size == 0 or more is None:
            return market.result()
        offered = more(asking, market.ceiling[asking], market.bars(), MORE_CHOICES)
        counts = np.bincount(offered.proposer, minlength=proposers)[asking]
        open_ended[asking[counts < MORE_CHOICES]] = False
        free = market.offer(offered, asking)


def capacity_for(larger: int, smaller: int) -> int:
    """How many twins a resident of the smaller side may have: ⌈larger / smaller⌉."""
    return -(-larger // smaller) if smaller else 0
