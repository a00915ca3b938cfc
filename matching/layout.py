"""Residents as dense score vectors whose dot products are the pair scores.

A pair's score is the dot product of a *left* and a *right* vector (``left(a) ·
right(b)``), so that scoring two cities against each other becomes a matrix product,
which runs on every core. The columns are laid out as:

* interests: the quantised interest vector on both sides;
* occupation and age: a one-hot of the resident's key on the left, the row of the
  closeness table for the other's key on the right, so the product picks the table
  entry (any function of two small keys is bilinear this way);
* language: one column, 1 on the left; the right holds the language units for the
  row's *language class*, filled in per class by the candidate pass, because the
  language term depends on both sides' languages at once and is also the gate.

All entries are integers and every product sum stays below 2**24, so float32 matrix
products compute the scores exactly (see ``score.py``) and both nodes get the same
numbers whatever BLAS, thread count or CPU they run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from matching import _vectors
from matching._arrays import BoolArray, Float32Array, IndexArray, Int64Array
from matching._touched import Touched
from matching._vectors import Keys
from matching.profile import InterestProfile
from matching.score import RarityWeights

__all__ = ["SparseLeftVectors", "VectorLayout"]


@dataclass(frozen=True, slots=True, eq=False)
class VectorLayout:
    """Column layout of the score vectors of one pair of sides.

    Built over all residents of both sides, rows first, because the occupation and age
    columns enumerate the keys found on either side. Residents are then addressed by
    their position in that sequence (``offset``).
    """

    weights: RarityWeights
    occupations: Keys
    ages: Keys
    occupation_table: Int64Array
    age_table: Int64Array
    interests: _vectors.SparseInterests  # of all residents of the layout

    @classmethod
    def build(
        cls,
        residents: Sequence[InterestProfile],
        weights: RarityWeights,
        touched: Touched | None = None,
    ) -> VectorLayout:
        """``touched``: from :func:`~matching.score.weights_and_touched` over ``residents``."""
        occupations = _vectors.distinct(residents, _vectors.occupation_key)
        ages = _vectors.distinct(residents, _vectors.age_key)
        return cls(
            weights=weights,
            occupations=occupations,
            ages=ages,
            occupation_table=_vectors.occupation_table(occupations, occupations),
            age_table=_vectors.age_table(ages, ages),
            interests=_vectors.sparse_interests(residents, weights, touched),
        )

    @property
    def occupation_start(self) -> int:
        return len(self.weights.codes)

    @property
    def age_start(self) -> int:
        return self.occupation_start + len(self.occupations.examples)

    @property
    def width(self) -> int:
        return self.age_start + len(self.ages.examples) + 1

    def interests_of(self, count: int, offset: int) -> _vectors.SparseInterests:
        """The interest vectors of residents ``offset …`` of the layout, numbered from 0."""
        every = self.interests
        first, last = np.searchsorted(every.resident, (offset, offset + count))
        return _vectors.SparseInterests(
            every.resident[first:last] - offset, every.dim[first:last], every.value[first:last]
        )

    def _interests(self, count: int, offset: int) -> Float32Array:
        vectors = np.zeros((count, self.width), dtype=np.float32)
        sparse = self.interests_of(count, offset)
        vectors[sparse.resident, sparse.dim] = sparse.value
        return vectors

    def left_vectors(self, residents: Sequence[InterestProfile], offset: int) -> Float32Array:
        """Left vectors of ``residents``, who are residents ``offset …`` of the layout."""
        n = len(residents)
        vectors = self._interests(n, offset)
        rows = np.arange(n)
        vectors[rows, self.occupation_start + self.occupations.ids[offset : offset + n]] = 1.0
        vectors[rows, self.age_start + self.ages.ids[offset : offset + n]] = 1.0
        vectors[:, -1] = 1.0
        return vectors

    def right_vectors(self, residents: Sequence[InterestProfile], offset: int) -> Float32Array:
        """Right vectors of ``residents``, who are residents ``offset …`` of the layout.

        The language column is left at 0: it depends on the left side too.
        """
        n = len(residents)
        vectors = self._interests(n, offset)
        occupation = self.occupations.ids[offset : offset + n]
        age = self.ages.ids[offset : offset + n]
        vectors[:, self.occupation_start : self.age_start] = self.occupation_table[:, occupation].T
        vectors[:, self.age_start : -1] = self.age_table[:, age].T
        return vectors


class SparseLeftVectors:
    """Left vectors of the first residents of a layout, made dense one block at a time.

    The whole dense left matrix of the larger city would be a quarter of a gigabyte held
    for nothing, while the pass only ever needs a few hundred rows at once.
    """

    def __init__(self, layout: VectorLayout, residents: Sequence[InterestProfile]) -> None:
        sparse = layout.interests_of(len(residents), 0)
        self.width = layout.width
        self._starts: Int64Array = np.searchsorted(
            sparse.resident, np.arange(len(residents) + 1)
        ).astype(np.int64, copy=False)
        # Copies: the layout's arrays for both sides are let go once the vectors exist.
        self._dims = sparse.dim.astype(np.int32)
        self._values = sparse.value.astype(np.float32)
        self._occupation = layout.occupation_start + layout.occupations.ids[: len(residents)]
        self._age = layout.age_start + layout.ages.ids[: len(residents)]

    def _entries(self, rows: IndexArray) -> tuple[IndexArray, Int64Array]:
        """(position in ``rows``, position in the sparse arrays) of the rows' entries."""
        begin = self._starts[rows]
        counts = self._starts[rows + 1] - begin
        local = np.repeat(np.arange(rows.size, dtype=np.int64), counts)
        offsets = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(
            np.cumsum(counts) - counts, counts
        )
        return local, np.repeat(begin, counts) + offsets

    def fill(self, rows: IndexArray, out: Float32Array) -> None:
        """Write the vectors of ``rows`` into ``out[: rows.size]`` (already zeroed)."""
        local, positions = self._entries(rows)
        out[local, self._dims[positions]] = self._values[positions]
        index = np.arange(rows.size)
        out[index, self._occupation[rows]] = 1.0
        out[index, self._age[rows]] = 1.0
        out[: rows.size, -1] = 1.0

    def used(self, rows: IndexArray) -> BoolArray:
        """Which columns any of ``rows`` has non-zero, so the others can be left out."""
        mask = np.zeros(self.width, dtype=bool)
        mask[self._dims[self._entries(rows)[1]]] = True
        mask[self._occupation[rows]] = True
        mask[self._age[rows]] = True
        mask[-1] = True
        return mask
