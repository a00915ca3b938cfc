"""The blocking-pair checker counts what a brute-force count over every pair finds."""

from __future__ import annotations

import numpy as np
import pytest

from matching.batch import assign_twins
from matching.candidates import PairVectors, candidate_pass
from matching.profile import InterestProfile
from matching.score import rarity_weights, score_units
from matching.settings import MatchSettings
from matching.sides import canonical_sides
from matching.stability import blocking_pairs
from matching.twin import Twins, capacity_for
from tests.matching.residents import CODES, parent, population


def brute_force(
    rows: list[InterestProfile],
    columns: list[InterestProfile],
    twins: Twins,
    settings: MatchSettings,
) -> int:
    weights = rarity_weights([*rows, *columns], CODES, parent)
    capacity = capacity_for(len(rows), len(columns))
    units = np.array(
        [[score_units(a, b, weights, settings.kind_gates) for b in columns] for a in rows]
    )
    held: dict[int, list[int]] = {}
    for p, h in enumerate(twins.hospital.tolist()):
        if h >= 0:
            held.setdefault(h, []).append(p)
    found = 0
    for p in range(len(rows)):
        mine = int(twins.hospital[p])
        for h in range(len(columns)):
            if units[p, h] <= 0 or h == mine:
                continue
            p_wants = mine < 0 or (units[p, h], -h) > (units[p, mine], -mine)
            holders = held.get(h, [])
            h_wants = len(holders) < capacity or any(
                (units[p, h], -p) > (units[x, h], -x) for x in holders
            )
            found += p_wants and h_wants
    return found


@pytest.mark.parametrize("seed", [1, 2])
def test_the_engine_twins_have_no_blocking_pair_and_the_checker_agrees(seed: int) -> None:
    settings = MatchSettings(top_k=3)
    rows, columns = canonical_sides(
        population("oldenburg", 90, seed), population("cholet", 40, seed)
    )
    weights = rarity_weights([*rows, *columns], CODES, parent)
    vectors = PairVectors.build(rows, columns, weights, settings.kind_gates)
    # Lists of three: many residents of the larger side must ask for more.
    row_lists, _ = candidate_pass(vectors, 3, 3)
    twins = assign_twins(vectors, row_lists)
    assert blocking_pairs(vectors, twins) == 0 == brute_force(rows, columns, twins, settings)

    # Take some twins away: the checker finds exactly the pairs brute force finds.
    spoilt = twins.hospital.copy()
    units = twins.units.copy()
    matched = np.flatnonzero(spoilt >= 0)[::3]
    spoilt[matched], units[matched] = -1, 0
    broken = Twins(spoilt, units)
    expected = brute_force(rows, columns, broken, settings)
    assert expected > 0
    assert blocking_pairs(vectors, broken) == expected
