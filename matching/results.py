"""What matching hands back: suggestions and twins, keyed by the residents' pseudonyms.

Results carry pseudonyms and scores only, so that a node can store and show them
without holding on to the other side's vectors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from matching.score import RarityWeights


class Suggestion(NamedTuple):
    """Someone of the other side, with the pair's score in [0, 1].

    A named tuple rather than a dataclass: a full run creates millions of them.
    """

    other_id: str
    score: float


@dataclass(frozen=True, slots=True)
class PairResult:
    """Suggestions and twins for every resident of both sides, keyed by pseudonym.

    ``weights`` travel with the result because a later single-resident refresh must use
    exactly these, not weights recomputed from a population that has moved on.
    """

    suggestions: Mapping[str, tuple[Suggestion, ...]]
    twins: Mapping[str, tuple[Suggestion, ...]]
    weights: RarityWeights
