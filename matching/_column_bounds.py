"""What the columns carry from block to block: witnesses, bounds and kept scores.

Rows are finished within their block, columns only after the last one. In between,
each column's bound (the least of its k witnesses, distinct scores already seen) only
rises, so fewer and fewer of its scores need to be read or kept as blocks pass.
"""

from __future__ import annotations

import numpy as np

from matching._arrays import BoolArray, Float32Array, IndexArray, Int32Array
from matching._cut import Triples, best_per_owner


class ColumnBounds:
    """Witnesses and kept scores of every column across all blocks and classes."""

    def __init__(self, columns: int, length: int) -> None:
        self.length = length
        self.witnesses: Float32Array = np.zeros((columns, length), dtype=np.float32)
        self.bound: Float32Array = np.ones(columns, dtype=np.float32)
        self.seen: BoolArray = np.zeros(columns, dtype=bool)
        self.kept: list[tuple[Int32Array, Int32Array, Float32Array]] = []
        self.kept_size = 0
        self.compact_at = 2 * columns * length + 1_000_000

    def seed(self, columns: IndexArray, scores: Float32Array) -> None:
        """First sight of ``columns``: their best scores in the block are the witnesses.

        Without a first bound every score of the first block would be kept; an exact
        partition of one block per column is cheap by comparison.
        """
        height = scores.shape[1]
        if height > self.length:
            best = np.partition(scores, height - self.length, axis=1)[:, height - self.length :]
        else:
            best = np.zeros((columns.size, self.length), dtype=np.float32)
            best[:, :height] = scores
        self.witnesses[columns] = best
        self.bound[columns] = np.maximum(best.min(axis=1), 1.0)
        self.seen[columns] = True

    def raise_bounds(self, columns: IndexArray, maxima: Float32Array) -> None:
        """Merge a block's group maxima (columns × groups) into the witnesses."""
        pool = np.concatenate((self.witnesses[columns], maxima), axis=1)
        cut = pool.shape[1] - self.length
        best = np.partition(pool, cut, axis=1)[:, cut:]
        self.witnesses[columns] = best
        self.bound[columns] = np.maximum(best.min(axis=1), 1.0)

    def keep(self, rows: IndexArray, columns: IndexArray, units: Float32Array) -> None:
        self.kept.append((rows.astype(np.int32), columns.astype(np.int32), units))
        self.kept_size += rows.size
        if self.kept_size > self.compact_at:
            self._compact()

    def _compact(self) -> None:
        """Drop what a risen bound has ruled out, so memory follows the lists, not the pass."""
        rows, columns, units = (np.concatenate(part) for part in zip(*self.kept, strict=True))
        alive = units >= self.bound[columns]
        self.kept = [(rows[alive], columns[alive], units[alive])]
        self.kept_size = int(alive.sum())
        self.compact_at = max(self.compact_at, 2 * self.kept_size)

    def lists(self) -> Triples:
        """Every column's final list, once all blocks have passed."""
        if not self.kept:
            empty = np.empty(0, dtype=np.int32)
            return Triples(empty, empty, empty)
        self._compact()
        rows, columns, units = self.kept[0]
        owner, other, cut_units = best_per_owner(
            columns.astype(np.int64), rows.astype(np.int64), units.astype(np.int64), self.length
        )
        return Triples(owner.astype(np.int32), other.astype(np.int32), cut_units.astype(np.int32))
