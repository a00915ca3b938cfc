"""The exposure floor of the matching benchmark: the most even spread the gates allow.

The README judges the engine's exposure caps against it, so it must really be the
floor: no way of filling every list spreads attention more evenly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from benchmarks._exposure import even_loads, floors_of, gini


@dataclass(frozen=True)
class Owners:
    rows: NDArray[Any]
    columns: NDArray[Any]


def test_a_profile_only_one_class_may_meet_takes_its_whole_demand() -> None:
    loads = even_loads([np.array([0]), np.array([0, 1, 2, 3])], [10.0, 10.0], 4)
    assert loads == pytest.approx([10.0, 10 / 3, 10 / 3, 10 / 3], abs=0.02)


def test_profiles_nobody_may_meet_carry_nothing() -> None:
    loads = even_loads([np.array([1, 2])], [6.0], 4)
    assert loads == pytest.approx([0.0, 3.0, 3.0, 0.0], abs=0.01)


@pytest.mark.parametrize("seed", range(20))
def test_no_full_spread_is_more_even(seed: int) -> None:
    """Random classes and random ways of placing each class's demand within its reach:
    none has a lower Gini or a lower maximum than the floor."""
    rng = np.random.default_rng(seed)
    profiles = int(rng.integers(3, 12))
    reach = [np.flatnonzero(rng.random(profiles) < 0.5) for _ in range(int(rng.integers(1, 6)))]
    reach = [r if r.size else np.array([int(rng.integers(profiles))]) for r in reach]
    demand = [float(rng.integers(1, 40)) for _ in reach]
    floor = even_loads(reach, demand, profiles)
    assert floor.sum() == pytest.approx(sum(demand))
    for _ in range(200):
        loads = np.zeros(profiles)
        for where, wanted in zip(reach, demand, strict=True):
            np.add.at(loads, rng.choice(where, size=int(wanted)), 1.0)
        assert gini(floor) <= gini(loads) + 1e-3
        assert floor.max() <= loads.max() + 1e-3


def test_both_directions_of_a_pair() -> None:
    """Rows 0–5 may meet columns 0–1, rows 6–7 all four columns; top 2 each."""
    classes = [
        Owners(np.arange(6), np.array([0, 1])),
        Owners(np.array([6, 7]), np.arange(4)),
    ]
    row_loads, column_loads = floors_of(classes, rows=8, columns=4, top_k=2)
    # Rows' lists: 12 places on columns 0–1, 4 more best on columns 2–3.
    assert column_loads == pytest.approx([6.0, 6.0, 2.0, 2.0], abs=0.02)
    # Columns' lists: columns 0–1 may use all rows, columns 2–3 only rows 6–7.
    assert row_loads[6:] == pytest.approx([2.0, 2.0], abs=0.02)
    assert row_loads[:6] == pytest.approx([4 / 6] * 6, abs=0.02)
    assert row_loads.sum() == pytest.approx(8.0)
