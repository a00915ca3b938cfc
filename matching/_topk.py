"""One blocked pass over the score matrix that yields candidate lists in both directions.

What is slow at full scale is not the multiply but picking the best few out of billions
of scores. This pass does not sort or partition score blocks (except rows of at most
``NARROW_COLUMNS`` scores, where that is cheapest). It reduces each block to *group
maxima* (cheap, vectorised reads) and uses them twice:

* The k-th largest of the group maxima of a row is a lower bound of the row's k-th best
  score (k maxima are k distinct scores). Only groups whose maximum reaches that bound
  can hold a top-k score, so only those few groups are read element by element.
* Columns see the rows block after block. Each column keeps k *witnesses* (distinct
  scores seen so far, from group maxima); their minimum is a lower bound of the column's
  final k-th best, which rises as blocks pass. A column is touched only when some score
  in the block reaches its bound.

Every score reaching the bound in force is kept, so the true top-k (with all ties) is
always among the kept scores; the final lists are then cut exactly. Scores are exact
integers (see ``score.py``), so bounds, ties and cuts are exact too.

The gates are not evaluated per pair: rows are processed in *language classes* (rows
whose gate and language term agree against every column), and a class is multiplied
only with the columns it may be matched with.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import numpy as np

ROW_BLOCK = 256
"""Rows multiplied at once: two blocks (ROW_BLOCK × columns, float32) are in flight."""

CHUNK_COLUMNS = 8192
"""Columns per matrix product, so that a chunk is still in cache for its reductions."""

COLUMN_GROUP = 32
"""Scores per row-direction group (a row's scores are read only in its hot groups)."""

ROW_GROUP = 16
"""Rows per column-direction group (one witness per group and column per block)."""

NARROW_COLUMNS = 4096
"""Up to this many columns a row's bound comes from partitioning the row itself: with
few groups the group maxima bound too loosely and nearly every group would be read."""


class RowVectors(Protocol):
    """The left score vectors of the rows, written into a block on demand.

    Rows are materialised one block at a time: the whole left matrix of the larger
    city would be a quarter of a gigabyte held for nothing.
    """

    width: int

    def fill(self, rows: np.ndarray, out: np.ndarray) -> None:
        """Write the vectors of ``rows`` into ``out[: rows.size]`` (already zeroed)."""

    def used(self, rows: np.ndarray) -> np.ndarray:
        """Boolean mask of the vector entries that are non-zero for any of ``rows``."""


@dataclass(frozen=True, slots=True)
class LanguageClass:
    """Rows that may meet the same columns, with the same language units for each."""

    rows: np.ndarray  # int64 row indices, ascending
    columns: np.ndarray  # int64 column indices, ascending
    language: np.ndarray  # float32 language units per column


@dataclass(frozen=True, slots=True)
class CandidateLists:
    """Best candidates per owner: sorted by owner, then score desc, then other asc."""

    owner: np.ndarray  # integer indices (int32 from the pass)
    other: np.ndarray
    units: np.ndarray

    def starts(self, owners: int) -> np.ndarray:
        """Offsets of each owner's list (``owners + 1`` entries)."""
        return np.searchsorted(self.owner, np.arange(owners + 1))


SCORE_BITS = 24
"""Score units are below 2**24 (see ``score.py``)."""


def _bits(values: np.ndarray) -> int:
    return int(values.max(initial=0)).bit_length()


def best_per_owner(
    owner: np.ndarray, other: np.ndarray, units: np.ndarray, length: int
) -> CandidateLists:
    """Cut candidate triples to each owner's ``length`` best, ties by the other's index.

    Sorting one packed integer key is several times faster than a three-key lexsort,
    and this runs on millions of candidates.
    """
    owner = owner.astype(np.int64, copy=False)
    other = other.astype(np.int64, copy=False)
    units = units.astype(np.int64, copy=False)
    other_bits = _bits(other)
    if _bits(owner) + SCORE_BITS + other_bits <= 63:
        key = (owner << (SCORE_BITS + other_bits)) | (
            (((1 << SCORE_BITS) - 1 - units) << other_bits) | other
        )
        key.sort()
        owner = key >> (SCORE_BITS + other_bits)
        units = (1 << SCORE_BITS) - 1 - ((key >> other_bits) & ((1 << SCORE_BITS) - 1))
        other = key & ((1 << other_bits) - 1)
    else:
        order = np.lexsort((other, -units, owner))
        owner, other, units = owner[order], other[order], units[order]
    if owner.size:
        first = np.ones(owner.size, dtype=bool)
        first[1:] = owner[1:] != owner[:-1]
        start = np.maximum.accumulate(np.where(first, np.arange(owner.size), 0))
        keep = np.arange(owner.size) - start < length
        owner, other, units = owner[keep], other[keep], units[keep]
    return CandidateLists(owner, other, units)


class _ColumnState:
    """Witnesses and kept scores of every column across all blocks and classes."""

    def __init__(self, columns: int, length: int) -> None:
        self.length = length
        self.witnesses = np.zeros((columns, length), dtype=np.float32)
        self.bound = np.ones(columns, dtype=np.float32)
        self.seen = np.zeros(columns, dtype=bool)
        self.kept: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.kept_size = 0
        self.compact_at = 2 * columns * length + 1_000_000

    def seed(self, columns: np.ndarray, scores: np.ndarray) -> None:
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

    def raise_bounds(self, columns: np.ndarray, maxima: np.ndarray) -> None:
        """Merge a block's group maxima (columns × groups) into the witnesses."""
        pool = np.concatenate((self.witnesses[columns], maxima), axis=1)
        cut = pool.shape[1] - self.length
        best = np.partition(pool, cut, axis=1)[:, cut:]
        self.witnesses[columns] = best
        self.bound[columns] = np.maximum(best.min(axis=1), 1.0)

    def keep(self, rows: np.ndarray, columns: np.ndarray, units: np.ndarray) -> None:
        self.kept.append((rows.astype(np.int32), columns.astype(np.int32), units))
        self.kept_size += rows.size
        if self.kept_size > self.compact_at:
            self._compact()

    def _compact(self) -> None:
        rows, columns, units = (np.concatenate(part) for part in zip(*self.kept, strict=True))
        alive = units >= self.bound[columns]
        self.kept = [(rows[alive], columns[alive], units[alive])]
        self.kept_size = int(alive.sum())
        self.compact_at = max(self.compact_at, 2 * self.kept_size)

    def lists(self) -> CandidateLists:
        if not self.kept:
            empty = np.empty(0, dtype=np.int32)
            return CandidateLists(empty, empty, empty)
        self._compact()
        rows, columns, units = self.kept[0]
        lists = best_per_owner(columns, rows, units.astype(np.int64), self.length)
        return CandidateLists(
            lists.owner.astype(np.int32), lists.other.astype(np.int32), lists.units.astype(np.int32)
        )


def _chunking(columns: int) -> tuple[int, int]:
    """(chunks, chunk width): widths are multiples of the group size."""
    chunks = max(1, -(-columns // CHUNK_COLUMNS))
    width = -(-columns // chunks)
    width = -(-width // COLUMN_GROUP) * COLUMN_GROUP
    return chunks, width


SEED_SLICE = 4096
"""Columns seeded per step (a step copies ROW_BLOCK scores of each)."""

SELECT_IN_BACKGROUND = True
"""Select block t on a helper thread while block t + 1 is multiplied."""

GATHER_SLICE = 1 << 15
"""Groups read per step, so the index arrays of a read stay a few megabytes."""


def _read_groups(
    scores: np.ndarray, base: np.ndarray, stride: int, size: int, bound: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores reaching ``bound`` in groups ``base + stride * [0, size)`` of the flat block.

    Returns (group number, member number, score) of each hit.
    """
    flat = scores.reshape(-1)
    steps = stride * np.arange(size)
    parts = []
    for start in range(0, base.size, GATHER_SLICE):
        stop = start + GATHER_SLICE
        values = flat[base[start:stop, None] + steps]
        hit, member = np.nonzero(values >= bound[start:stop, None])
        parts.append((hit + start, member, values[hit, member]))
    if not parts:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0, dtype=np.float32)
    pair, member, values = (np.concatenate(p) for p in zip(*parts, strict=True))
    return pair, member, values


def _row_candidates(
    scores: np.ndarray, maxima: np.ndarray, length: int, width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row-direction survivors of one block: (block row, class column, units)."""
    groups = maxima.shape[1]
    if groups > length:
        bound = np.partition(maxima, groups - length, axis=1)[:, groups - length]
        bound = np.maximum(bound, 1.0)
    else:
        bound = np.ones(maxima.shape[0], dtype=np.float32)
    row, group = np.nonzero(maxima >= bound[:, None])
    per_chunk = width // COLUMN_GROUP
    chunk, slot = np.divmod(group, per_chunk)
    height = scores.shape[1]
    base = (chunk * height + row) * width + slot
    pair, member, values = _read_groups(scores, base, per_chunk, COLUMN_GROUP, bound[row])
    column = chunk[pair] * width + slot[pair] + member * per_chunk
    return row[pair], column, values


def _narrow_row_candidates(
    tile: np.ndarray, length: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row-direction survivors when the whole row fits one tile: an exact bound."""
    width = tile.shape[1]
    if width > length:
        bound = np.partition(tile, width - length, axis=1)[:, width - length]
        bound = np.maximum(bound, 1.0)
    else:
        bound = np.ones(tile.shape[0], dtype=np.float32)
    row, column = np.nonzero(tile >= bound[:, None])
    return row, column, tile[row, column]


def _column_candidates(
    scores: np.ndarray,
    maxima: np.ndarray,
    class_columns: np.ndarray,
    state: _ColumnState,
    width: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column-direction survivors of one block: (block row, class column, units)."""
    real = class_columns.size
    top = maxima[:, :real].max(axis=0)
    hot = np.flatnonzero(top >= state.bound[class_columns])
    if hot.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0, dtype=np.float32)
    columns = class_columns[hot]
    hot_maxima = maxima[:, hot]
    fresh = ~state.seen[columns]
    if fresh.any():
        # Group maxima of this block would repeat the seeded witnesses: not distinct.
        for start in range(0, int(fresh.sum()), SEED_SLICE):
            part = hot[fresh][start : start + SEED_SLICE]
            chunk, offset = np.divmod(part, width)
            state.seed(class_columns[part], scores[chunk, :, offset])
        seen = ~fresh
        state.raise_bounds(columns[seen], hot_maxima[:, seen].T)
    else:
        state.raise_bounds(columns, hot_maxima.T)
    bound = state.bound[columns]
    group, which = np.nonzero(hot_maxima >= bound[None, :])
    local = hot[which]
    chunk, offset = np.divmod(local, width)
    height = scores.shape[1]
    base = (chunk * height + group * ROW_GROUP) * width + offset
    pair, member, values = _read_groups(scores, base, width, ROW_GROUP, bound[which])
    return group[pair] * ROW_GROUP + member, local[pair], values


@dataclass(slots=True)
class _Block:
    """The scores of one row block against its class's columns, with their group maxima."""

    rows: np.ndarray  # row indices of the block (without padding)
    columns: np.ndarray  # the class's column indices
    scores: np.ndarray  # float32, chunks × padded rows × chunk width
    row_maxima: np.ndarray | None  # None for a narrow class
    column_maxima: np.ndarray


def _blocks(
    left: RowVectors, right: np.ndarray, classes: Sequence[LanguageClass]
) -> Iterator[_Block]:
    """Multiply and reduce, block by block: the work that runs on all cores (BLAS)."""
    for language_class in classes:
        class_columns = language_class.columns
        chunks, width = _chunking(class_columns.size)
        padded = np.zeros((chunks * width, right.shape[1]), dtype=np.float32)
        padded[: class_columns.size] = right[class_columns]
        padded[: class_columns.size, -1] = language_class.language
        # Only entries non-zero on both sides can contribute: a class of clubs needs no
        # occupation entries, a class of persons no grade bands.
        features = np.flatnonzero(left.used(language_class.rows) & padded.any(axis=0))
        padded = np.ascontiguousarray(padded[:, features])
        per_chunk = width // COLUMN_GROUP
        narrow = chunks == 1 and width <= NARROW_COLUMNS
        for start in range(0, language_class.rows.size, ROW_BLOCK):
            block_rows = language_class.rows[start : start + ROW_BLOCK]
            height = -(-block_rows.size // ROW_GROUP) * ROW_GROUP
            full = np.zeros((height, left.width), dtype=np.float32)
            left.fill(block_rows, full)
            block = np.ascontiguousarray(full[:, features])
            scores = np.empty((chunks, height, width), dtype=np.float32)
            row_maxima = None if narrow else np.empty((height, chunks * per_chunk), np.float32)
            column_maxima = np.empty((height // ROW_GROUP, chunks * width), dtype=np.float32)
            for c in range(chunks):
                tile = scores[c]
                np.matmul(block, padded[c * width : (c + 1) * width].T, out=tile)
                if row_maxima is not None:
                    tile.reshape(height, COLUMN_GROUP, per_chunk).max(
                        axis=1, out=row_maxima[:, c * per_chunk : (c + 1) * per_chunk]
                    )
                tile.reshape(height // ROW_GROUP, ROW_GROUP, width).max(
                    axis=1, out=column_maxima[:, c * width : (c + 1) * width]
                )
            yield _Block(block_rows, class_columns, scores, row_maxima, column_maxima)


def _select(
    block: _Block, length: int, state: _ColumnState
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Survivors of one block in both directions; rows are final, columns go to ``state``."""
    width = block.scores.shape[2]
    if block.row_maxima is None:
        row, column, units = _narrow_row_candidates(block.scores[0], length)
    else:
        row, column, units = _row_candidates(block.scores, block.row_maxima, length, width)
    kept = best_per_owner(row, column, units.astype(np.int64), length)
    result = (
        block.rows[kept.owner].astype(np.int32),
        block.columns[kept.other].astype(np.int32),
        kept.units.astype(np.int32),
    )

    row, column, units = _column_candidates(
        block.scores, block.column_maxima, block.columns, state, width
    )
    real = row < block.rows.size
    state.keep(block.rows[row[real]], block.columns[column[real]], units[real])
    return result


def candidate_lists(
    left: RowVectors,
    right: np.ndarray,
    classes: Sequence[LanguageClass],
    length: int,
) -> tuple[CandidateLists, CandidateLists]:
    """Each row's and each column's ``length`` best gate-passing candidates.

    ``left`` (rows, width K) and ``right`` (columns × K, float32) are score vectors whose
    last column is the language term; it is filled per class from
    ``LanguageClass.language``.

    Selection of one block runs on a helper thread while the next block is multiplied,
    so the second core is not idle during the selection. Blocks are selected strictly
    in order, one at a time, so the column bounds evolve the same way on every run (the
    result would be exact and identical even if they did not).
    """
    state = _ColumnState(right.shape[0], length)
    row_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    if SELECT_IN_BACKGROUND:
        with ThreadPoolExecutor(max_workers=1) as selector:
            pending: Future[tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None
            for block in _blocks(left, right, classes):
                if pending is not None:
                    row_parts.append(pending.result())
                pending = selector.submit(_select, block, length, state)
            if pending is not None:
                row_parts.append(pending.result())
    else:
        row_parts.extend(_select(block, length, state) for block in _blocks(left, right, classes))
    if row_parts:
        owner, other, units = (np.concatenate(part) for part in zip(*row_parts, strict=True))
    else:
        owner = other = units = np.empty(0, dtype=np.int32)
    # Each row was cut in its own block; classes only interleave the rows.
    order = np.argsort(owner, kind="stable")
    rows = CandidateLists(owner[order], other[order], units[order])
    return rows, state.lists()
