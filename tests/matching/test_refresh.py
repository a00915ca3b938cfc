"""A single-resident refresh must give exactly what the last full run gave."""

from __future__ import annotations

import pytest

from matching.batch import match_pair
from matching.refresh import SideIndex, suggestions_for
from matching.score import rarity_weights
from tests.matching.residents import CODES, parent, population


def test_refresh_equals_the_full_run() -> None:
    side_a = population("oldenburg", 90, 9)
    side_b = population("cholet", 40, 9)
    result = match_pair(side_a, side_b, codes=CODES, parent=parent)
    weights = result.weights
    index_b = SideIndex.build(side_b, weights)
    index_a = SideIndex.build(side_a, weights)
    for resident in side_a:
        assert suggestions_for(resident, index_b, weights) == result.suggestions[resident.id]
    for resident in side_b:
        assert suggestions_for(resident, index_a, weights) == result.suggestions[resident.id]


def test_refresh_refuses_other_weights() -> None:
    side_b = population("cholet", 10, 10)
    index = SideIndex.build(side_b, rarity_weights(side_b, CODES, parent))
    other = rarity_weights(population("oldenburg", 10, 10), CODES, parent)
    with pytest.raises(ValueError, match="weights"):
        suggestions_for(population("oldenburg", 1, 11)[0], index, other)
