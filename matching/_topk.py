"""The selection half of the candidate pass: the best few of every row and column.

What is slow at full scale is not the multiply but picking the best few out of billions
of scores. This selection does not sort or partition score blocks (except rows of at
most ``tuning.NARROW_COLUMNS`` scores, where that is cheapest). It uses the group
maxima of each block (``matching._blocks``) twice:

* The k-th largest of the group maxima of a row is a lower bound of the row's k-th best
  score (k maxima are k distinct scores). Only groups whose maximum reaches that bound
  can hold a top-k score, so only those few groups are read element by element.
* Columns see the rows block after block. Each column keeps k *witnesses* (distinct
  scores seen so far, from group maxima); their minimum is a lower bound of the column's
  final k-th best, which rises as blocks pass. A column is touched only when some score
  in the block reaches its bound.

Every score reaching the bound in force is kept, so the true top-k (with all ties) is
always among the kept scores; the final lists are then cut exactly. Scores are exact
integers (see ``score.py``), so bounds, ties and cuts are exact too, and the sizes in
``matching.tuning`` cannot change a result.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

from matching import tuning
from matching._arrays import Float32Array, IndexArray
from matching._blocks import (
    BlockTask,
    LanguageClass,
    RowVectors,
    ScoreBlock,
    ScoreMemory,
    block_tasks,
)
from matching._column_bounds import ColumnBounds
from matching._cut import Triples, best_per_owner

Hits = tuple[IndexArray, IndexArray, Float32Array]
"""Two positions and the score of each hit, e.g. (block row, class column, units)."""


def _no_hits() -> Hits:
    empty = np.empty(0, dtype=np.intp)
    return empty, empty, np.empty(0, dtype=np.float32)


def _read_groups(
    scores: Float32Array, base: IndexArray, stride: int, size: int, bound: Float32Array
) -> Hits:
    """Scores reaching ``bound`` in groups ``base + stride * [0, size)`` of the flat block.

    Returns (group number, member number, score) of each hit.
    """
    flat = scores.reshape(-1)
    steps = stride * np.arange(size)
    parts: list[Hits] = []
    for start in range(0, base.size, tuning.GATHER_SLICE):
        stop = start + tuning.GATHER_SLICE
        values = flat[base[start:stop, None] + steps]
        hit, member = np.nonzero(values >= bound[start:stop, None])
        parts.append((hit + start, member, values[hit, member]))
    if not parts:
        return _no_hits()
    pair, member, values = (np.concatenate(p) for p in zip(*parts, strict=True))
    return pair, member, values


def _row_candidates(scores: Float32Array, maxima: Float32Array, length: int, width: int) -> Hits:
    """Row-direction survivors of one block: (block row, class column, units)."""
    groups = maxima.shape[1]
    if groups > length:
        bound = np.partition(maxima, groups - length, axis=1)[:, groups - length]
        bound = np.maximum(bound, np.float32(1.0))
    else:
        bound = np.ones(maxima.shape[0], dtype=np.float32)
    row, group = np.nonzero(maxima >= bound[:, None])
    per_chunk = width // tuning.COLUMN_GROUP
    chunk, slot = np.divmod(group, per_chunk)
    height = scores.shape[1]
    base = (chunk * height + row) * width + slot
    pair, member, values = _read_groups(scores, base, per_chunk, tuning.COLUMN_GROUP, bound[row])
    column = chunk[pair] * width + slot[pair] + member * per_chunk
    return row[pair], column, values


def _narrow_row_candidates(tile: Float32Array, length: int) -> Hits:
    """Row-direction survivors when the whole row fits one tile: an exact bound."""
    width = tile.shape[1]
    if width > length:
        bound = np.partition(tile, width - length, axis=1)[:, width - length]
        bound = np.maximum(bound, np.float32(1.0))
    else:
        bound = np.ones(tile.shape[0], dtype=np.float32)
    row, column = np.nonzero(tile >= bound[:, None])
    return row, column, tile[row, column]


def _column_candidates(
    scores: Float32Array,
    maxima: Float32Array,
    class_columns: IndexArray,
    state: ColumnBounds,
    width: int,
) -> Hits:
    """Column-direction survivors of one block: (block row, class column, units)."""
    real = class_columns.size
    top = maxima[:, :real].max(axis=0)
    hot = np.flatnonzero(top >= state.bound[class_columns])
    if hot.size == 0:
        return _no_hits()
    columns = class_columns[hot]
    hot_maxima = maxima[:, hot]
    fresh = ~state.seen[columns]
    if fresh.any():
        # Group maxima of this block would repeat the seeded witnesses: not distinct.
        for start in range(0, int(fresh.sum()), tuning.SEED_SLICE):
            part = hot[fresh][start : start + tuning.SEED_SLICE]
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
    row_group = tuning.ROW_GROUP
    base = (chunk * height + group * row_group) * width + offset
    pair, member, values = _read_groups(scores, base, width, row_group, bound[which])
    return group[pair] * row_group + member, local[pair], values


def _row_survivors(block: ScoreBlock, length: int) -> Triples:
    """The rows' final candidates from one block (rows are never in two blocks)."""
    width = block.scores.shape[2]
    if block.row_maxima is None:
        row, column, units = _narrow_row_candidates(block.scores[0], length)
    else:
        row, column, units = _row_candidates(block.scores, block.row_maxima, length, width)
    owner, other, kept_units = best_per_owner(
        row.astype(np.int64, copy=False),
        column.astype(np.int64, copy=False),
        units.astype(np.int64),
        length,
    )
    return Triples(
        block.rows[owner].astype(np.int32),
        block.columns[other].astype(np.int32),
        kept_units.astype(np.int32),
    )


def _column_survivors(block: ScoreBlock, state: ColumnBounds) -> None:
    """Hand the block's column-direction survivors to ``state`` (blocks in order)."""
    row, column, units = _column_candidates(
        block.scores, block.column_maxima, block.columns, state, block.scores.shape[2]
    )
    real = row < block.rows.size
    state.keep(block.rows[row[real]], block.columns[column[real]], units[real])


def _multiplied(task: BlockTask, length: int) -> tuple[ScoreBlock, Triples]:
    block = task()
    return block, _row_survivors(block, length)


def _in_order(
    tasks: Iterator[BlockTask], length: int, threads: int
) -> Iterator[tuple[ScoreBlock, Triples]]:
    """Blocks multiplied and row-selected on ``threads`` threads, handed back in order.

    Each thread runs its own single-threaded products: blocks are independent, while
    a multi-threaded BLAS call per block leaves cores waiting at every block's end.
    At most ``threads + 1`` blocks are in flight, which bounds the memory.
    """
    with ThreadPoolExecutor(max_workers=threads) as pool, threadpool_limits(limits=1):
        pending: deque[Future[tuple[ScoreBlock, Triples]]] = deque()
        for task in tasks:
            pending.append(pool.submit(_multiplied, task, length))
            if len(pending) > threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def candidate_lists(
    left: RowVectors,
    right: Float32Array,
    classes: Sequence[LanguageClass],
    length: int,
    column_length: int,
) -> tuple[Triples, Triples]:
    """Each row's ``length`` and each column's ``column_length`` best gate-passing candidates.

    ``left`` (rows, width K) and ``right`` (columns × K) are score vectors whose last
    column is the language term; it is filled per class from ``LanguageClass.language``.

    Blocks are multiplied and their rows selected on ``tuning.PASS_THREADS`` threads;
    the columns' selection takes the blocks strictly in order, one at a time, so the
    column bounds evolve the same way on every run (the result would be exact and
    identical even if they did not).
    """
    state = ColumnBounds(right.shape[0], column_length)
    row_parts: list[Triples] = []
    memory = ScoreMemory()
    tasks = block_tasks(left, right, classes, memory)
    threads = tuning.PASS_THREADS or os.cpu_count() or 1
    if threads > 1:
        for block, survivors in _in_order(tasks, length, threads):
            row_parts.append(survivors)
            _column_survivors(block, state)
            memory.give(block.scores)
    else:
        for task in tasks:
            block = task()
            row_parts.append(_row_survivors(block, length))
            _column_survivors(block, state)
            memory.give(block.scores)
    if row_parts:
        owner, other, units = (np.concatenate(part) for part in zip(*row_parts, strict=True))
    else:
        owner = other = units = np.empty(0, dtype=np.int32)
    # Each row was cut in its own block; classes only interleave the rows.
    order = np.argsort(owner, kind="stable")
    rows = Triples(owner[order], other[order], units[order])
    return rows, state.lists()
