"""Exact faiss baselines for the matching benchmark: gated (like for like) and ungated.

The gated baseline solves the engine's problem: the same score vectors, built inside
its timer, the same gates (one exact inner-product search per language class, rows
against exactly the columns the class may meet), the same language term, the same
trimmed features, the same list lengths (rows: the twins' first choices, columns: the
top k), and columns' lists merged across classes. Its output is compared with the
engine's: every owner's list of scores must be the same (ids may differ on ties: faiss
breaks them its own way).

The ungated baseline is the plain ``faiss.knn`` over both whole cities, one call per
direction, top k: more pairs, no language term, shown for scale only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from matching.candidates import CandidateLists, language_classes
from matching.gates import KindGates
from matching.layout import VectorLayout
from matching.profile import InterestProfile
from matching.score import RarityWeights


class Lists(NamedTuple):
    """Owners' lists as (owner, other, units), sorted by owner then score descending."""

    owner: np.ndarray
    other: np.ndarray
    units: np.ndarray


def _sorted(owner: np.ndarray, other: np.ndarray, units: np.ndarray, length: int) -> Lists:
    order = np.lexsort((other, -units, owner))
    owner, other, units = owner[order], other[order], units[order]
    rank = np.arange(owner.size) - np.searchsorted(owner, owner)
    keep = rank < length
    return Lists(owner[keep], other[keep], units[keep])


def gated(
    rows: Sequence[InterestProfile],
    columns: Sequence[InterestProfile],
    weights: RarityWeights,
    kind_gates: KindGates,
    row_length: int,
    column_length: int,
) -> tuple[Lists, Lists]:
    """Rows' and columns' best gate-passing candidates by faiss, class by class."""
    import faiss

    layout = VectorLayout.build([*rows, *columns], weights)
    left = layout.left_vectors(rows, 0)
    right_all = layout.right_vectors(columns, len(rows))
    row_parts: list[tuple[np.ndarray, ...]] = []
    column_parts: list[tuple[np.ndarray, ...]] = []
    for language_class in language_classes(rows, columns, kind_gates):
        class_rows, class_columns = language_class.rows, language_class.columns
        right = right_all[class_columns]
        right[:, -1] = language_class.language
        block = left[class_rows]
        features = np.flatnonzero(block.any(axis=0) & right.any(axis=0))
        block = np.ascontiguousarray(block[:, features])
        right = np.ascontiguousarray(right[:, features])
        k = min(row_length, class_columns.size)
        scores, found = faiss.knn(block, right, k, metric=faiss.METRIC_INNER_PRODUCT)
        row_parts.append((np.repeat(class_rows, k), class_columns[found.ravel()], scores.ravel()))
        k = min(column_length, class_rows.size)
        scores, found = faiss.knn(right, block, k, metric=faiss.METRIC_INNER_PRODUCT)
        column_parts.append(
            (np.repeat(class_columns, k), class_rows[found.ravel()], scores.ravel())
        )
    row_lists = _sorted(
        *(np.concatenate(part) for part in zip(*row_parts, strict=True)), row_length
    )
    # A column meets rows of several classes: its list is the best of all of them.
    column_lists = _sorted(
        *(np.concatenate(part) for part in zip(*column_parts, strict=True)), column_length
    )
    return row_lists, column_lists


def ungated(
    rows: Sequence[InterestProfile],
    columns: Sequence[InterestProfile],
    weights: RarityWeights,
    top_k: int,
) -> None:
    """Top k both ways over every pair, gates and language term ignored."""
    import faiss

    layout = VectorLayout.build([*rows, *columns], weights)
    left_rows = layout.left_vectors(rows, 0)
    right_columns = layout.right_vectors(columns, len(rows))
    faiss.knn(left_rows, right_columns, top_k, metric=faiss.METRIC_INNER_PRODUCT)
    del left_rows, right_columns
    left_columns = layout.left_vectors(columns, len(rows))
    right_rows = layout.right_vectors(rows, 0)
    faiss.knn(left_columns, right_rows, top_k, metric=faiss.METRIC_INNER_PRODUCT)


def score_mismatches(engine: CandidateLists, baseline: Lists, owners: int) -> int:
    """Owners whose lists of scores differ between the engine and the baseline."""
    mine = Lists(engine.owner, engine.other, engine.units)
    differing = 0
    for lists in (mine, baseline):
        if lists.owner.size and np.any(np.diff(lists.owner) < 0):
            raise ValueError("lists must be sorted by owner")
    starts = np.searchsorted(mine.owner, np.arange(owners + 1))
    theirs = np.searchsorted(baseline.owner, np.arange(owners + 1))
    same_length = np.diff(starts) == np.diff(theirs)
    differing += int((~same_length).sum())
    if same_length.all():
        unequal = mine.units.astype(np.int64) != baseline.units.astype(np.int64)
        differing += int(np.unique(mine.owner[unequal]).size)
    return differing


def figures_of(name: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Every run's seconds and their median, under ``name``."""
    seconds = [run[f"{name}_s"] for run in runs]
    return {f"{name}_runs_s": seconds, f"{name}_s": round(float(np.median(seconds)), 3)}
