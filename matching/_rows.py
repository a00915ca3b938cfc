"""Whole rows of exact scores, for the few residents who need more than their list.

The candidate pass keeps only each resident's best few. A resident of the larger side
who is turned away by every one of them (the twin assignment), and the checker that
looks for blocking pairs among *all* gated pairs, need the rest of the row: the same
product as the pass (``matching._blocks``), for chosen rows, without selection.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from matching import tuning
from matching._arrays import Float32Array, IndexArray, Int64Array
from matching._blocks import LanguageClass, RowVectors
from matching._deferred import Choices, hospital_keys, no_choices


class RowScores:
    """Exact score units of any rows against every column their language class meets."""

    def __init__(
        self, left: RowVectors, right: Float32Array, classes: Sequence[LanguageClass], rows: int
    ) -> None:
        self._left = left
        self._right = right
        self._classes = classes
        self._class_of = np.full(rows, -1, dtype=np.intp)
        for number, language_class in enumerate(classes):
            self._class_of[language_class.rows] = number

    def blocks(
        self, rows: IndexArray, reach: tuple[Int64Array, Int64Array] | None = None
    ) -> Iterator[tuple[IndexArray, IndexArray, Float32Array]]:
        """(rows, columns, units rows × columns), a block at a time, class by class.

        Without ``reach`` the columns are all those of the rows' class. With ``reach =
        (limits, bars)`` (a limit per row, a bar per column) a block only gets the
        columns whose bar is below the highest limit of its rows; rows are grouped by
        limit so that a block's limits are alike. Rows without any gate-passing column
        are skipped. Units are exact integers held in float32 (``score.py``).
        """
        rows, first = np.unique(np.asarray(rows, dtype=np.intp), return_index=True)
        limits = None if reach is None else reach[0][first]
        class_of = self._class_of[rows]
        for number in np.unique(class_of[class_of >= 0]).tolist():
            language_class = self._classes[number]
            member = class_of == number
            members, columns = rows[member], language_class.columns
            right = self._right[columns]
            right[:, -1] = language_class.language
            bars = None
            if reach is not None and limits is not None:
                member_limits = limits[member]
                order = np.argsort(-member_limits, kind="stable")
                members, member_limits = members[order], member_limits[order]
                bars = reach[1][columns]
                open_to_some = bars < member_limits[0]
                columns, right, bars = (
                    columns[open_to_some],
                    right[open_to_some],
                    bars[open_to_some],
                )
            features = np.flatnonzero(self._left.used(members) & right.any(axis=0))
            right = np.ascontiguousarray(right[:, features])
            for start in range(0, members.size, tuning.ROW_BLOCK):
                block_rows = members[start : start + tuning.ROW_BLOCK]
                block_columns, block_right = columns, right
                if bars is not None:
                    open_to_block = bars < member_limits[start]
                    block_columns, block_right = columns[open_to_block], right[open_to_block]
                if block_columns.size == 0:
                    continue
                full = np.zeros((block_rows.size, self._left.width), dtype=np.float32)
                self._left.fill(block_rows, full)
                units = np.ascontiguousarray(full[:, features]) @ block_right.T
                yield block_rows, block_columns, units

    def next_choices(
        self,
        rows: Int64Array,
        last_units: Int64Array,
        last_column: Int64Array,
        bars: Int64Array,
        count: int,
    ) -> Choices:
        """Each row's best ``count`` columns after its last offered one whose key beats
        the column's bar (:class:`matching._deferred.MoreChoices`).

        Only columns whose bar is below the row's ceiling (its last score) can take it,
        and only those are scored: late in an assignment, few.
        """
        found: list[Choices] = []
        position = np.full(self._class_of.size, -1, dtype=np.int64)
        position[rows] = np.arange(rows.size)
        reach = (hospital_keys(last_units, rows), bars)
        for block_rows, columns, scores in self.blocks(rows.astype(np.intp), reach):
            # A slice of rows at a time: the int64 intermediates of a whole block of
            # rows against tens of thousands of columns would be hundreds of megabytes.
            for start in range(0, block_rows.size, tuning.CHOICE_ROWS):
                part = slice(start, start + tuning.CHOICE_ROWS)
                found.append(
                    _best_after(
                        block_rows[part],
                        columns,
                        scores[part],
                        position,
                        last_units,
                        last_column,
                        bars,
                        count,
                    )
                )
        if not found:
            return no_choices()
        return Choices(*(np.concatenate(part) for part in zip(*found, strict=True)))


def _best_after(
    block_rows: IndexArray,
    columns: IndexArray,
    scores: Float32Array,
    position: Int64Array,
    last_units: Int64Array,
    last_column: Int64Array,
    bars: Int64Array,
    count: int,
) -> Choices:
    """The best ``count`` wanted columns of each of these rows (see ``next_choices``)."""
    units = scores.astype(np.int64)
    at = position[block_rows]
    ceiling = last_units[at][:, None]
    after = (units < ceiling) | ((units == ceiling) & (columns[None, :] > last_column[at][:, None]))
    wanted = after & (hospital_keys(units, block_rows[:, None]) > bars[columns][None, :])
    position_bits = max(int(columns.size).bit_length(), 1)
    # Preference: score, then the lower column; -1 where not wanted.
    preference = np.where(
        wanted, (units << position_bits) | (columns.size - 1 - np.arange(columns.size)), -1
    )
    if columns.size > count:
        top = np.argpartition(preference, columns.size - count, axis=1)[:, -count:]
        preference = np.take_along_axis(preference, top, axis=1)
    else:
        top = np.broadcast_to(np.arange(columns.size), preference.shape)
    row, slot = np.nonzero(preference >= 0)
    column = top[row, slot]
    return Choices(
        block_rows[row].astype(np.int64), columns[column].astype(np.int64), units[row, column]
    )
