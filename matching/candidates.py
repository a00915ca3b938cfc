"""Every resident's best candidates of the other side, both ways, in one pass.

The pass is the expensive step of a full run and the only one that looks at all pairs;
the suggestions and the twins are then read off its lists. Pairs that fail a gate never
reach a list: rows are grouped into *language classes* (rows whose gates and language
term agree against every column), and a class only meets the columns it may be matched
with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from matching import _vectors
from matching._arrays import Float32Array, IndexArray, Int32Array
from matching._blocks import LanguageClass, chunking
from matching._rows import RowScores
from matching._topk import candidate_lists
from matching._touched import Touched
from matching.gates import KindGates
from matching.layout import SparseLeftVectors, VectorLayout
from matching.profile import InterestProfile
from matching.score import ParentOf, RarityWeights, weights_and_touched

__all__ = ["CandidateLists", "PairVectors", "candidate_pass", "language_classes"]


@dataclass(frozen=True, slots=True, eq=False)
class CandidateLists:
    """Best candidates per owner: sorted by owner, then score desc, then other asc.

    Owners and others are positions in the sides as given to :func:`candidate_pass`,
    scores are exact units (``score.py``), all int32 to halve the memory of a full run.
    """

    owner: Int32Array
    other: Int32Array
    units: Int32Array

    def starts(self, owners: int) -> IndexArray:
        """Offsets of each owner's list (``owners + 1`` entries)."""
        return np.searchsorted(self.owner, np.arange(owners + 1))


def language_classes(
    rows: Sequence[InterestProfile],
    columns: Sequence[InterestProfile],
    kind_gates: KindGates,
) -> list[LanguageClass]:
    """Rows grouped by identical gates and language units against every column."""
    row_keys = _vectors.language_keys(rows)
    column_keys = _vectors.language_keys(columns)
    table = _vectors.language_table(row_keys, column_keys, kind_gates)
    groups: dict[bytes, list[int]] = {}
    for signature, units in enumerate(table):
        if units.any():
            groups.setdefault(units.tobytes(), []).append(signature)
    classes: list[LanguageClass] = []
    for signatures in groups.values():
        units = table[signatures[0]][column_keys.ids]
        class_rows = np.flatnonzero(np.isin(row_keys.ids, signatures))
        class_columns = np.flatnonzero(units > 0)
        classes.append(
            LanguageClass(class_rows, class_columns, units[class_columns].astype(np.float32))
        )
    # Large classes first: column bounds rise early, later classes touch fewer columns.
    classes.sort(key=lambda c: (-c.rows.size * c.columns.size, int(c.rows[0])))
    return classes


@dataclass(frozen=True, slots=True, eq=False)
class PairVectors:
    """The score vectors and language classes of one pair of sides, built once.

    The candidate pass, the twins' requests for more choices and the stability check all
    multiply the same vectors class by class.
    """

    left: SparseLeftVectors
    right: Float32Array
    classes: list[LanguageClass]
    rows: int
    columns: int
    weights: RarityWeights

    @classmethod
    def of_sides(
        cls,
        rows: Sequence[InterestProfile],
        columns: Sequence[InterestProfile],
        codes: Sequence[str],
        parent: ParentOf,
        kind_gates: KindGates,
    ) -> PairVectors:
        """Weights from both sides and the vectors, reading everyone's interests once."""
        weights, touched = weights_and_touched([*rows, *columns], codes, parent)
        return cls.build(rows, columns, weights, kind_gates, touched)

    @classmethod
    def build(
        cls,
        rows: Sequence[InterestProfile],
        columns: Sequence[InterestProfile],
        weights: RarityWeights,
        kind_gates: KindGates,
        touched: Touched | None = None,
    ) -> PairVectors:
        """``rows`` and ``columns`` as returned by :func:`matching.sides.canonical_sides`:
        the lists, and so the twins, depend on which side plays the rows. ``touched``
        comes with ``weights`` from :func:`~matching.score.weights_and_touched` over
        rows then columns."""
        layout = VectorLayout.build([*rows, *columns], weights, touched)
        return cls(
            left=SparseLeftVectors(layout, rows),
            right=layout.right_vectors(columns, len(rows)),
            classes=language_classes(rows, columns, kind_gates),
            rows=len(rows),
            columns=len(columns),
            weights=weights,
        )

    def row_scores(self) -> RowScores:
        return RowScores(self.left, self.right, self.classes, self.rows)

    def flops(self) -> int:
        """Floating-point operations of the pass's products: each class's rows times
        its padded columns times the features both sides use, twice."""
        total = 0
        for language_class in self.classes:
            chunks, width = chunking(language_class.columns.size)
            right = self.right[language_class.columns]
            right[:, -1] = language_class.language
            used = self.left.used(language_class.rows) & right.any(axis=0)
            total += 2 * language_class.rows.size * chunks * width * int(used.sum())
        return total

    def gated_columns(self) -> IndexArray:
        """How many columns each row may be matched with at all."""
        counts = np.zeros(self.rows, dtype=np.intp)
        for language_class in self.classes:
            counts[language_class.rows] = language_class.columns.size
        return counts


def candidate_pass(
    vectors: PairVectors, row_length: int, column_length: int
) -> tuple[CandidateLists, CandidateLists]:
    """Each row's ``row_length`` and each column's ``column_length`` best gate-passing
    candidates (rows may need longer lists: the twins start from them)."""
    row_lists, column_lists = candidate_lists(
        vectors.left, vectors.right, vectors.classes, row_length, column_length
    )
    return CandidateLists(*row_lists), CandidateLists(*column_lists)
