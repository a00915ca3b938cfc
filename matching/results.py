"""What matching hands back: suggestions and twins, keyed by the residents' pseudonyms.

Results carry pseudonyms and scores only, so that a node can store and show them
without holding on to the other side's vectors.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from matching._arrays import Int64Array, SignedArray
from matching.score import SCORE_UNITS, RarityWeights


class Suggestion(NamedTuple):
    """Someone of the other side, with the pair's score in [0, 1]."""

    other_id: str
    score: float


class RankedLists(Mapping[str, tuple[Suggestion, ...]]):
    """Every resident's ranked list of the other side, kept as arrays.

    Two whole cities have millions of entries, and a node only ever reads the lists of
    its own residents: a resident's tuple is made when it is looked up.
    """

    def __init__(
        self, ids: Sequence[str], owner: SignedArray, other: SignedArray, units: SignedArray
    ) -> None:
        """``owner`` and ``other`` are positions in ``ids``; entries sorted by owner, then
        rank."""
        self._ids = list(ids)
        self._position = {resident: i for i, resident in enumerate(self._ids)}
        self._starts = np.searchsorted(owner, np.arange(len(self._ids) + 1))
        self._other = np.asarray(other, dtype=np.int64)
        self._units = np.asarray(units, dtype=np.int64)

    def __getitem__(self, resident: str) -> tuple[Suggestion, ...]:
        i = self._position[resident]
        begin, end = int(self._starts[i]), int(self._starts[i + 1])
        others: list[int] = self._other[begin:end].tolist()
        # The same correctly rounded division as units_to_score.
        scores: list[float] = (self._units[begin:end] / SCORE_UNITS).tolist()
        return tuple(Suggestion(self._ids[j], v) for j, v in zip(others, scores, strict=True))

    def entries(
        self, owners: Sequence[str], others: Sequence[str]
    ) -> tuple[Int64Array, Int64Array, Int64Array]:
        """The lists of ``owners`` as arrays: (position in ``owners``, position of the
        other in ``others``, units), by owner then rank.

        What a node stores of a whole run, without a tuple per resident: building those
        for a city took seconds.
        """
        owner = np.fromiter(map(self._position.__getitem__, owners), np.int64, len(owners))
        where = np.full(len(self._ids), -1, dtype=np.int64)
        known = np.fromiter(map(self._position.__getitem__, others), np.int64, len(others))
        where[known] = np.arange(len(others))
        begin, end = self._starts[owner], self._starts[owner + 1]
        counts = end - begin
        offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        taken = np.repeat(begin, counts) + offsets
        other = where[self._other[taken]]
        if (other < 0).any():
            raise ValueError("a listed resident is missing from others")
        return np.repeat(np.arange(len(owners)), counts), other, self._units[taken]

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def __repr__(self) -> str:
        return f"RankedLists({len(self._ids)} residents, {self._other.size} entries)"


@dataclass(frozen=True, slots=True)
class PairResult:
    """Suggestions and twins for every resident of both sides, keyed by pseudonym.

    ``weights`` travel with the result because a later single-resident refresh must use
    exactly these, not weights recomputed from a population that has moved on.
    """

    suggestions: RankedLists
    twins: RankedLists
    weights: RarityWeights
