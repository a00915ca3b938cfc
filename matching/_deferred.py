"""Deferred acceptance with quotas and capacities, asking for more choices on demand.

Proposers go down their preferences (score descending, then the lower hospital index)
until they hold ``quota`` hospitals or run out; each hospital keeps the ``capacity``
proposers it prefers (higher score, then the lower proposer index) and turns the others
away. All preferences are strict, so the proposer-optimal stable outcome is unique and
the order of proposals cannot change it: both nodes reach the same result.

Nobody can rank a whole city up front, and nobody needs to: a proposer starts with the
best few of its candidate list, and only one left short when they are used up asks for
more (``MoreChoices``), ranked after the last one it was offered. It is offered only
hospitals that would take it now; any other would turn it away later as well, because a
hospital's bar only rises. A proposer offered nothing more has gone through its whole
list.

The twins are this with a quota of one (``matching.twin``), the suggestion lists that
spread attention with a quota of ``top_k`` (``matching.exposure``).
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

import numpy as np

from matching._arrays import BoolArray, Int64Array, SignedArray

PROPOSER_BITS = 24
"""Room for the proposer index in a hospital's preference key (ties by index)."""

_PROPOSER_MASK = (1 << PROPOSER_BITS) - 1
_KEY_BITS = 24 + PROPOSER_BITS
"""Keys are below 2**48: score units below 2**24, then the proposer."""

NO_OFFER = 1 << 24
"""``last_units`` of a proposer offered nothing yet: above every score."""


def hospital_keys(units: SignedArray, proposer: SignedArray) -> Int64Array:
    """How much a hospital wants each proposer: higher is better, never equal for two."""
    return (np.asarray(units, dtype=np.int64) << PROPOSER_BITS) | (
        _PROPOSER_MASK - np.asarray(proposer, dtype=np.int64)
    )


def _proposer_of(key: Int64Array) -> Int64Array:
    return _PROPOSER_MASK - (key & _PROPOSER_MASK)


class Choices(NamedTuple):
    """Pairs (proposer, hospital, units), in each proposer's preference order.

    Any signed integer width on the way in (candidate lists are int32); int64 out.
    """

    proposer: SignedArray
    hospital: SignedArray
    units: SignedArray


def no_choices() -> Choices:
    empty = np.empty(0, dtype=np.int64)
    return Choices(empty, empty, empty)


class MoreChoices(Protocol):
    """The next hospitals of proposers left short when their choices ran out."""

    def __call__(
        self,
        proposers: Int64Array,
        last_units: Int64Array,
        last_hospital: Int64Array,
        bars: Int64Array,
        count: int,
        /,
    ) -> Choices:
        """Each proposer's best ``count`` hospitals ranked after its last offered one
        (``last_units``, ``last_hospital``: lower score, or the same and a higher index)
        whose :func:`hospital_keys` for the pair beats ``bars[h]`` (-1 where there is
        room). ``last_units`` also bounds every score still to come, so hospitals with
        higher bars need no scoring. Sorted by proposer, then preference."""


def _distinct(ordered: Int64Array) -> Int64Array:
    """The distinct values of a sorted array (``np.unique`` hashes: slower on millions)."""
    fresh = np.ones(ordered.size, dtype=bool)
    fresh[1:] = ordered[1:] != ordered[:-1]
    return ordered[fresh]


def _in_preference_order(choices: Choices) -> bool:
    """Whether the pairs are distinct and in preference order already (candidate lists
    are): then they need neither a sort nor a copy."""
    proposer, hospital, units = choices
    if proposer.size < 2:
        return True
    same_proposer = proposer[1:] == proposer[:-1]
    same_units = units[1:] == units[:-1]
    return bool(
        np.all(proposer[1:] >= proposer[:-1])
        and not np.any(same_proposer & (units[1:] > units[:-1]))
        and not np.any(same_proposer & same_units & (hospital[1:] <= hospital[:-1]))
    )


def preference_order(choices: Choices) -> Choices:
    """Deduplicated pairs in each proposer's preference order (one packed sort)."""
    if _in_preference_order(choices):
        return choices
    proposer, hospital, units = (np.asarray(part, dtype=np.int64) for part in choices)
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


def _by_hospital_then_key(key: Int64Array, hospital: SignedArray) -> Int64Array:
    """The order sorting by hospital, then key descending (one unsigned sort if it fits)."""
    if int(hospital.max(initial=0)) < 1 << (64 - _KEY_BITS):
        top = np.uint64((1 << _KEY_BITS) - 1)
        packed = (hospital.astype(np.uint64) << np.uint64(_KEY_BITS)) | (
            top - key.astype(np.uint64)
        )
        order: Int64Array = np.argsort(packed)
        return order
    return np.lexsort((-key, hospital))


class _Market:
    """What each proposer may still ask and holds, and whom each hospital holds."""

    def __init__(self, proposers: int, hospitals: int, quota: int, capacity: int) -> None:
        self.quota = quota
        self.hospital = np.empty(0, dtype=np.int32)  # per offered pair
        self.key = np.empty(0, dtype=np.int64)
        self.cursor = np.zeros(proposers, dtype=np.int64)
        self.stop = np.zeros(proposers, dtype=np.int64)
        self.last_units = np.full(proposers, NO_OFFER, dtype=np.int64)
        self.last_hospital = np.full(proposers, -1, dtype=np.int64)
        self.count = np.zeros(proposers, dtype=np.int64)
        self.capacity = capacity
        # held[h, :filled[h]] are hospital h's keys; the rest is never read, so never
        # initialised (a cap of hundreds is mostly empty: 54,000 × 326 keys).
        self.held = np.empty((hospitals, capacity), dtype=np.int64)
        self.bar = np.full(hospitals, -1, dtype=np.int64)  # weakest held key when full
        self.filled = np.zeros(hospitals, dtype=np.int64)

    def offer(self, choices: Choices, proposers: Int64Array) -> Int64Array:
        """Give ``proposers`` (ascending) these choices to go through; who got any."""
        choices = preference_order(choices)
        base = self.hospital.size
        self.hospital = np.concatenate((self.hospital, choices.hospital), dtype=np.int32)
        self.key = np.concatenate((self.key, hospital_keys(choices.units, choices.proposer)))
        bounds = base + np.searchsorted(choices.proposer, proposers)
        ends = base + np.searchsorted(choices.proposer, proposers, side="right")
        self.cursor[proposers] = bounds
        self.stop[proposers] = ends
        got = ends > bounds
        last = ends[got] - base - 1
        self.last_units[proposers[got]] = choices.units[last]
        self.last_hospital[proposers[got]] = choices.hospital[last]
        return proposers[got]

    def propose(self, active: Int64Array) -> Int64Array:
        """Each active proposer asks as many as it lacks; returns who is short (sorted)."""
        asks = np.minimum(self.quota - self.count[active], self.stop[active] - self.cursor[active])
        first = self.cursor[active]
        edge = np.repeat(first - np.cumsum(asks) + asks, asks) + np.arange(int(asks.sum()))
        self.cursor[active] += asks
        new_hospital, new_key = self.hospital[edge], self.key[edge]
        # Proposals below a full hospital's bar are turned away without reopening it.
        above = new_key > self.bar[new_hospital]
        new_hospital, new_key = new_hospital[above], new_key[above]
        touched = _distinct(np.sort(new_hospital))
        capacity = self.capacity
        # Only the filled slots (each hospital's first ``filled``): a large capacity is
        # mostly empty, and copying it whole made this step take a gigabyte.
        old_hospital, slot = self._slots(touched)
        old = self.held[old_hospital, slot]
        pool_key = np.concatenate((old, new_key))
        pool_hospital = np.concatenate((old_hospital, new_hospital), dtype=np.int32)
        fresh = np.concatenate((np.zeros(old.size, dtype=bool), np.ones(new_key.size, dtype=bool)))
        order = _by_hospital_then_key(pool_key, pool_hospital)
        pool_key, pool_hospital, fresh = pool_key[order], pool_hospital[order], fresh[order]
        rank = np.arange(pool_key.size) - np.searchsorted(pool_hospital, pool_hospital)
        kept = rank < capacity
        self.held[pool_hospital[kept], rank[kept]] = pool_key[kept]
        pooled = np.bincount(pool_hospital, minlength=self.filled.size)[touched]
        self.filled[touched] = np.minimum(pooled, capacity)
        full = rank == capacity - 1
        self.bar[pool_hospital[full]] = pool_key[full]
        proposer = _proposer_of(pool_key)
        np.add.at(self.count, proposer[kept & fresh], 1)
        bumped = proposer[~kept & ~fresh]
        np.subtract.at(self.count, bumped, 1)
        # Short now: turned away this round, or given fewer choices than they lacked.
        concerned = _distinct(np.sort(np.concatenate((active, bumped))))
        return concerned[self.count[concerned] < self.quota]

    def _slots(self, hospitals: Int64Array) -> tuple[Int64Array, Int64Array]:
        """(hospital, slot) of every filled slot of ``hospitals``."""
        filled = self.filled[hospitals]
        hospital = np.repeat(hospitals, filled)
        slot = np.arange(hospital.size) - np.repeat(np.cumsum(filled) - filled, filled)
        return hospital, slot

    def outcome(self) -> Choices:
        hospital, slot = self._slots(np.arange(self.filled.size))
        key = self.held[hospital, slot]
        return preference_order(
            Choices(_proposer_of(key), hospital.astype(np.int64), key >> PROPOSER_BITS)
        )


def deferred_acceptance(
    choices: Choices,
    proposers: int,
    hospitals: int,
    quota: int,
    capacity: int,
    *,
    complete: BoolArray | None = None,
    more: MoreChoices | None = None,
    more_count: int = 64,
) -> Choices:
    """The proposer-optimal stable outcome: who holds whom, with the pairs' units.

    ``choices`` are each proposer's first acceptable pairs with their scores (duplicates
    allowed; the score of a pair must be the same wherever it appears), of any integer
    width. ``complete[p]`` says that they are all of proposer ``p``'s acceptable pairs;
    the others ask ``more`` when left short. Without ``more`` the given pairs are all
    there is. Proposals go in rounds, all proposers at once; the outcome is the same
    whatever the rounds look like.
    """
    if proposers >= 1 << PROPOSER_BITS:
        raise ValueError("too many residents for deferred acceptance")
    if quota <= 0 or capacity <= 0 or hospitals == 0:
        return no_choices()
    market = _Market(proposers, hospitals, quota, capacity)
    given = Choices(*(np.asarray(part) for part in choices))
    everyone = np.arange(proposers, dtype=np.int64)
    active = market.offer(given, everyone)
    open_ended = np.zeros(proposers, dtype=bool) if complete is None else ~complete
    if more is None:
        open_ended[:] = False
    waiting = [everyone[(market.cursor == market.stop) & open_ended]]
    while True:
        while active.size:
            short = market.propose(active)
            has_next = market.cursor[short] < market.stop[short]
            active = short[has_next]
            waiting.append(short[~has_next & open_ended[short]])
        asking = _distinct(np.sort(np.concatenate([everyone[:0], *waiting])))
        waiting.clear()
        asking = asking[market.count[asking] < quota]
        if asking.size == 0 or more is None:
            return market.outcome()
        offered = more(
            asking,
            market.last_units[asking],
            market.last_hospital[asking],
            market.bar,
            more_count,
        )
        counts = np.bincount(offered.proposer, minlength=proposers)[asking]
        open_ended[asking[counts < more_count]] = False
        active = market.offer(offered, asking)
