"""The twin assignment: capacities, stability among all acceptable pairs, determinism,
and the same result whether preferences come whole or are asked for a few at a time."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.twin import Choices, capacity_for, hospital_keys, stable_twins


def twins_of(
    p: np.ndarray, h: np.ndarray, units: np.ndarray, proposers: int, hospitals: int, capacity: int
) -> np.ndarray:
    return stable_twins(Choices(p, h, units), proposers, hospitals, capacity).hospital


def random_market(
    seed: int, proposers: int, hospitals: int, density: float, levels: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Acceptable pairs with few distinct scores, so that ties are common."""
    rng = np.random.default_rng(seed)
    mask = rng.random((proposers, hospitals)) < density
    p, h = np.nonzero(mask)
    units = rng.integers(1, levels + 1, size=p.size)
    return p, h, units


def reference_twins(
    p: np.ndarray, h: np.ndarray, units: np.ndarray, proposers: int, capacity: int
) -> list[int]:
    """Textbook sequential Gale–Shapley, one proposal at a time."""
    score = {(int(a), int(b)): int(u) for a, b, u in zip(p, h, units, strict=True)}
    lists = {
        a: sorted((b for (x, b) in score if x == a), key=lambda b: (-score[a, b], b))
        for a in range(proposers)
    }
    held: dict[int, list[int]] = {}
    twin = [-1] * proposers
    nxt = [0] * proposers
    free = list(range(proposers))
    while free:
        a = free.pop()
        if nxt[a] >= len(lists[a]):
            continue
        b = lists[a][nxt[a]]
        nxt[a] += 1
        pool = [*held.get(b, []), a]
        pool.sort(key=lambda x: (-score[x, b], x))
        held[b] = pool[:capacity]
        for x in pool[:capacity]:
            twin[x] = b
        for x in pool[capacity:]:
            twin[x] = -1
            free.append(x)
    return twin


def blocking_pairs(
    p: np.ndarray, h: np.ndarray, units: np.ndarray, twin: np.ndarray, capacity: int
) -> list[tuple[int, int]]:
    score = {(int(a), int(b)): int(u) for a, b, u in zip(p, h, units, strict=True)}
    holders: dict[int, list[int]] = {}
    for a, b in enumerate(twin.tolist()):
        if b >= 0:
            holders.setdefault(b, []).append(a)
    blocking = []
    for (a, b), s in score.items():
        if twin[a] == b:
            continue
        a_wants = twin[a] < 0 or (s, -b) > (score[a, int(twin[a])], -int(twin[a]))
        mine = holders.get(b, [])
        b_wants = len(mine) < capacity or any((s, -a) > (score[x, b], -x) for x in mine)
        if a_wants and b_wants:
            blocking.append((a, b))
    return blocking


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 10**6),
    st.integers(1, 40),
    st.integers(1, 15),
    st.floats(0.05, 0.9),
    st.integers(1, 4),
)
def test_stable_capacitated_and_equal_to_sequential_gale_shapley(
    seed: int, proposers: int, hospitals: int, density: float, levels: int
) -> None:
    p, h, units = random_market(seed, proposers, hospitals, density, levels)
    capacity = capacity_for(proposers, hospitals)
    twin = twins_of(p, h, units, proposers, hospitals, capacity)
    counts = np.bincount(twin[twin >= 0], minlength=hospitals)
    assert counts.max(initial=0) <= capacity
    assert not blocking_pairs(p, h, units, twin, capacity)
    assert twin.tolist() == reference_twins(p, h, units, proposers, capacity)
    accepted = {(int(a), int(b)) for a, b in zip(p, h, strict=True)}
    assert all((a, int(b)) in accepted for a, b in enumerate(twin) if b >= 0)


class FromMatrix:
    """``MoreChoices`` answered from a whole preference matrix, counting the requests."""

    def __init__(self, p: np.ndarray, h: np.ndarray, units: np.ndarray, hospitals: int) -> None:
        self.units = {(int(a), int(b)): int(u) for a, b, u in zip(p, h, units, strict=True)}
        self.hospitals = hospitals
        self.asked = 0

    def __call__(
        self,
        proposers: np.ndarray,
        last_units: np.ndarray,
        last_hospital: np.ndarray,
        bars: np.ndarray,
        count: int,
    ) -> Choices:
        self.asked += 1
        found: list[tuple[int, int, int]] = []
        for a, ceiling, last in zip(
            proposers.tolist(), last_units.tolist(), last_hospital.tolist(), strict=True
        ):
            taking = [
                (b, u)
                for b in range(self.hospitals)
                if (u := self.units.get((a, b))) is not None
                and (u, -b) < (ceiling, -last)
                and int(hospital_keys(np.array([u]), np.array([a]))[0]) > int(bars[b])
            ]
            taking.sort(key=lambda item: (-item[1], item[0]))
            found.extend((a, b, u) for b, u in taking[:count])
        if not found:
            empty = np.empty(0, dtype=np.int64)
            return Choices(empty, empty, empty)
        p, h, u = (np.array(part, dtype=np.int64) for part in zip(*found, strict=True))
        return Choices(p, h, u)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 10**6),
    st.integers(1, 40),
    st.integers(1, 12),
    st.floats(0.1, 0.9),
    st.integers(1, 3),
    st.integers(0, 3),
)
def test_asking_for_more_gives_the_whole_list_assignment(
    seed: int, proposers: int, hospitals: int, density: float, levels: int, first: int
) -> None:
    """Each proposer starts with only its ``first`` best; the rest comes on request."""
    p, h, units = random_market(seed, proposers, hospitals, density, levels)
    capacity = capacity_for(proposers, hospitals)
    order = np.lexsort((h, -units, p))
    p, h, units = p[order], h[order], units[order]
    rank = np.arange(p.size) - np.searchsorted(p, p)
    given_first = rank < first
    held = np.bincount(p[given_first], minlength=proposers)
    complete = held == np.bincount(p, minlength=proposers)
    more = FromMatrix(p, h, units, hospitals)
    twins = stable_twins(
        Choices(p[given_first], h[given_first], units[given_first]),
        proposers,
        hospitals,
        capacity,
        complete=complete,
        more=more,
    )
    assert twins.hospital.tolist() == reference_twins(p, h, units, proposers, capacity)
    assert not blocking_pairs(p, h, units, twins.hospital, capacity)
    pair_units = {(int(a), int(b)): int(u) for a, b, u in zip(p, h, units, strict=True)}
    for a, b in enumerate(twins.hospital.tolist()):
        assert twins.units[a] == (pair_units[a, b] if b >= 0 else 0)
    if complete.all():
        assert more.asked == 0


def test_input_order_and_duplicates_do_not_matter() -> None:
    p, h, units = random_market(3, 60, 20, 0.3, 3)
    twin = twins_of(p, h, units, 60, 20, 3)
    order = np.random.default_rng(1).permutation(p.size)
    doubled = np.concatenate((order, order[: p.size // 2]))
    again = twins_of(p[doubled], h[doubled], units[doubled], 60, 20, 3)
    assert again.tolist() == twin.tolist()


def test_ties_go_to_the_lower_id() -> None:
    # Two proposers, one seat, the same score: the lower index (= lower id) wins.
    twin = twins_of(np.array([1, 0]), np.array([0, 0]), np.array([5, 5]), 2, 1, 1)
    assert twin.tolist() == [0, -1]
    # One proposer, two hospitals with the same score: the lower index is preferred.
    twin = twins_of(np.array([0, 0]), np.array([1, 0]), np.array([5, 5]), 1, 2, 1)
    assert twin.tolist() == [0]


def test_higher_score_beats_lower_id() -> None:
    twin = twins_of(np.array([0, 1]), np.array([0, 0]), np.array([4, 5]), 2, 1, 1)
    assert twin.tolist() == [-1, 0]


def test_without_acceptable_pairs_nobody_has_a_twin() -> None:
    empty = np.empty(0, dtype=np.int64)
    assert twins_of(empty, empty, empty, 3, 2, 2).tolist() == [-1, -1, -1]


@pytest.mark.parametrize(
    ("larger", "smaller", "capacity"),
    [(176_000, 54_000, 4), (10, 10, 1), (11, 10, 2), (5, 0, 0)],
)
def test_capacity_is_the_rounded_up_ratio(larger: int, smaller: int, capacity: int) -> None:
    assert capacity_for(larger, smaller) == capacity
