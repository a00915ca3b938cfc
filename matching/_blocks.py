"""The multiply-and-reduce half of the candidate pass: score blocks and their group maxima.

Each block of rows is multiplied with the columns its language class may meet, and
reduced right away, while still in cache, to maxima over small groups of scores in both
directions. Blocks are independent tasks (:func:`block_tasks`), so the pass runs one
per core, each with a single-threaded product. The selection
(``matching._topk``) reads those maxima instead of the billions of scores.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Protocol

import numpy as np
from scipy.sparse import csr_array

from matching import tuning
from matching._arrays import BoolArray, Float32Array, IndexArray


class RowVectors(Protocol):
    """The left score vectors of the rows, written into a block on demand.

    Rows are materialised one block at a time: the whole left matrix of the larger
    city would be a quarter of a gigabyte held for nothing.
    """

    @property
    def width(self) -> int: ...

    def fill(self, rows: IndexArray, out: Float32Array) -> None:
        """Write the vectors of ``rows`` into ``out[: rows.size]`` (already zeroed)."""

    def used(self, rows: IndexArray) -> BoolArray:
        """Boolean mask of the vector entries that are non-zero for any of ``rows``."""


@dataclass(frozen=True, slots=True, eq=False)
class LanguageClass:
    """Rows that may meet the same columns, with the same language units for each.

    Gates are then never evaluated per pair: a class is multiplied only with the columns
    it may be matched with, and its language units fill the language column once.
    """

    rows: IndexArray  # row indices, ascending
    columns: IndexArray  # column indices, ascending
    language: Float32Array  # language units per column


@dataclass(frozen=True, slots=True, eq=False)
class ScoreBlock:
    """The scores of one row block against its class's columns, with their group maxima."""

    rows: IndexArray  # row indices of the block (without padding)
    columns: IndexArray  # the class's column indices
    scores: Float32Array  # chunks × padded rows × chunk width
    row_maxima: Float32Array | None  # None for a narrow class
    column_maxima: Float32Array


class ScoreMemory:
    """The memory of the score blocks in flight, handed back once a block is selected.

    A block's scores take tens of megabytes. Allocated afresh, every page of them is
    faulted in and zeroed by the kernel again, for each of hundreds of blocks: seconds
    of system time in a full pass. Handing the memory on keeps as many buffers as blocks
    are ever in flight at once.
    """

    def __init__(self) -> None:
        self._free: list[Float32Array] = []
        self._lock = threading.Lock()

    def take(self, shape: tuple[int, ...]) -> Float32Array:
        """An uninitialised array of ``shape``."""
        size = math.prod(shape)
        with self._lock:
            # Free buffers are kept smallest first: take the first that fits.
            fitting = next((i for i, b in enumerate(self._free) if b.size >= size), None)
            if fitting is not None:
                buffer = self._free.pop(fitting)
            else:
                # All too small for this class: let the smallest go rather than hoard it.
                if self._free:
                    self._free.pop(0)
                buffer = np.empty(size, dtype=np.float32)
        return buffer[:size].reshape(shape)

    def give(self, scores: Float32Array) -> None:
        """Hand back the memory of ``scores`` (from :meth:`take`; no view of it may live on)."""
        buffer = scores.base
        if isinstance(buffer, np.ndarray):
            with self._lock:
                self._free.append(buffer)
                self._free.sort(key=len)


def chunking(columns: int) -> tuple[int, int]:
    """(chunks, chunk width): widths are multiples of the group size."""
    chunks = max(1, -(-columns // tuning.CHUNK_COLUMNS))
    width = -(-columns // chunks)
    width = -(-width // tuning.COLUMN_GROUP) * tuning.COLUMN_GROUP
    return chunks, width


def _bands(block: Float32Array, height: int) -> list[csr_array]:
    """The block as sparse matrices of ``height`` rows each, converted once: the rows
    of one sparse matrix are cut out of its arrays rather than converted band by band."""
    whole = csr_array(block)
    starts = whole.indptr
    bands = []
    for top in range(0, block.shape[0], height):
        first, last = starts[top], starts[top + height]
        parts = (
            whole.data[first:last],
            whole.indices[first:last],
            starts[top : top + height + 1] - first,
        )
        bands.append(csr_array(parts, shape=(height, block.shape[1])))
    return bands


@dataclass(frozen=True, slots=True, eq=False)
class _ClassProduct:
    """One class's columns, trimmed to the features both sides use, ready to multiply."""

    language_class: LanguageClass
    chunks: tuple[Float32Array, ...]  # per chunk: used features × width, contiguous
    features: IndexArray
    width: int

    @classmethod
    def prepare(
        cls, left: RowVectors, right: Float32Array, language_class: LanguageClass
    ) -> _ClassProduct:
        class_columns = language_class.columns
        chunks, width = chunking(class_columns.size)
        padded = np.zeros((chunks * width, right.shape[1]), dtype=np.float32)
        padded[: class_columns.size] = right[class_columns]
        padded[: class_columns.size, -1] = language_class.language
        # Only entries non-zero on both sides can contribute: a class of clubs needs no
        # occupation entries, a class of persons no grade bands.
        features = np.flatnonzero(left.used(language_class.rows) & padded.any(axis=0))
        trimmed = padded[:, features]
        return cls(
            language_class,
            tuple(
                np.ascontiguousarray(trimmed[c * width : (c + 1) * width].T) for c in range(chunks)
            ),
            features,
            width,
        )

    def block(self, left: RowVectors, memory: ScoreMemory, start: int) -> ScoreBlock:
        """Multiply and reduce the class's rows ``start …`` (one ``tuning.ROW_BLOCK``).

        A resident touches a few dozen of the few hundred features: where the block is
        that sparse, a sparse product does a tenth of the multiplications (exact all
        the same: integer sums in float32, ``score.py``).
        """
        column_group, row_group = tuning.COLUMN_GROUP, tuning.ROW_GROUP
        chunks, width = len(self.chunks), self.width
        per_chunk = width // column_group
        narrow = chunks == 1 and width <= tuning.NARROW_COLUMNS
        block_rows = self.language_class.rows[start : start + tuning.ROW_BLOCK]
        height = -(-block_rows.size // row_group) * row_group
        full = np.zeros((height, left.width), dtype=np.float32)
        left.fill(block_rows, full)
        block = np.ascontiguousarray(full[:, self.features])
        tops = range(0, height, row_group)
        sparse = np.count_nonzero(block) < tuning.SPARSE_SHARE * block.size
        bands = _bands(block, row_group) if sparse else None
        scores = memory.take((chunks, height, width))
        row_maxima = None if narrow else np.empty((height, chunks * per_chunk), np.float32)
        column_maxima = np.empty((height // row_group, chunks * width), dtype=np.float32)
        for c, chunk in enumerate(self.chunks):
            tile = scores[c]
            if bands is None:
                np.matmul(block, chunk, out=tile)
            # Reduced band by band (a row group each) while a band is still in cache:
            # reading whole tiles back costs twice as much.
            for g, top in enumerate(tops):
                band = tile[top : top + row_group]
                if bands is not None:
                    band[...] = bands[g] @ chunk
                if row_maxima is not None:
                    groups = row_maxima[top : top + row_group, c * per_chunk : (c + 1) * per_chunk]
                    band.reshape(row_group, column_group, per_chunk).max(axis=1, out=groups)
                band.max(axis=0, out=column_maxima[g, c * width : (c + 1) * width])
        columns = self.language_class.columns
        return ScoreBlock(block_rows, columns, scores, row_maxima, column_maxima)


BlockTask = Callable[[], ScoreBlock]
"""One block's multiply and reduce, to run on any thread."""


def block_tasks(
    left: RowVectors, right: Float32Array, classes: Sequence[LanguageClass], memory: ScoreMemory
) -> Iterator[BlockTask]:
    """Every block of every class, in order; a class is prepared when its first block
    is asked for, so only one class's trimmed columns are held at a time."""
    for language_class in classes:
        product = _ClassProduct.prepare(left, right, language_class)
        for start in range(0, language_class.rows.size, tuning.ROW_BLOCK):
            yield partial(product.block, left, memory, start)
