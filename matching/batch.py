"""The full run: suggestions and twins for the whole population of a pair of partner cities.

Both nodes call :func:`match_pair` with their own residents first and must get the same
result, so nothing here depends on argument order, input order or hash seeds: the sides
are put in canonical order (``sides.py``), scores are exact integers (``score.py``) and
every tie is broken by id.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from matching._arrays import IndexArray, Int32Array, Int64Array
from matching.candidates import CandidateLists, candidate_pass
from matching.profile import InterestProfile
from matching.results import PairResult, Suggestion
from matching.score import SCORE_UNITS, ParentOf, rarity_weights
from matching.settings import MatchSettings
from matching.sides import canonical_sides
from matching.twin import capacity_for, stable_twins

__all__ = ["assign_twins", "match_pair", "suggestion_maps"]


@contextmanager
def _bulk_objects() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of small tuples are created.

    The objects hold no cycles, yet each collection would walk all of them again:
    building the suggestions of two whole cities took seconds longer with it running.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _suggestion_map(
    owners: Sequence[InterestProfile],
    others: Sequence[InterestProfile],
    lists: CandidateLists,
    top_k: int,
) -> dict[str, tuple[Suggestion, ...]]:
    starts = lists.starts(len(owners))
    rank = np.arange(lists.owner.size) - starts[lists.owner]
    keep = rank < top_k
    other_ids = [r.id for r in others]
    # The same correctly rounded division as units_to_score, done for all at once.
    scores: list[float] = (lists.units[keep] / SCORE_UNITS).tolist()
    others_kept: list[int] = lists.other[keep].tolist()
    flat = list(map(Suggestion, [other_ids[j] for j in others_kept], scores))
    ends: list[int] = np.cumsum(np.bincount(lists.owner[keep], minlength=len(owners))).tolist()
    result: dict[str, tuple[Suggestion, ...]] = {}
    begin = 0
    for resident, end in zip(owners, ends, strict=True):
        result[resident.id] = tuple(flat[begin:end])
        begin = end
    return result


def _pair_units(
    proposer: IndexArray,
    hospital: Int64Array,
    row_lists: CandidateLists,
    column_lists: CandidateLists,
) -> tuple[Int64Array, Int64Array, Int32Array]:
    """The scores of the twin pairs, looked up in the candidate lists they came from."""
    owner = np.concatenate((row_lists.owner, column_lists.other)).astype(np.int64)
    other = np.concatenate((row_lists.other, column_lists.owner)).astype(np.int64)
    units = np.concatenate((row_lists.units, column_lists.units))
    proposers, hospitals = proposer.astype(np.int64), hospital.astype(np.int64)
    span = int(max(hospitals.max(initial=0), other.max(initial=0))) + 1
    edge_key = owner * span + other
    order = np.argsort(edge_key, kind="stable")
    found = order[np.searchsorted(edge_key[order], proposers * span + hospitals)]
    return proposers, hospitals, units[found]


def _twin_map(
    rows: Sequence[InterestProfile],
    columns: Sequence[InterestProfile],
    row_lists: CandidateLists,
    column_lists: CandidateLists,
) -> dict[str, tuple[str, ...]]:
    twin = stable_twins(
        np.concatenate((row_lists.owner, column_lists.other)),
        np.concatenate((row_lists.other, column_lists.owner)),
        np.concatenate((row_lists.units, column_lists.units)),
        proposers=len(rows),
        hospitals=len(columns),
        capacity=capacity_for(len(rows), len(columns)),
    )
    result: dict[str, tuple[str, ...]] = {r.id: () for r in [*rows, *columns]}
    matched = np.flatnonzero(twin >= 0)
    if matched.size == 0:
        return result
    # A resident of the smaller side lists their twins by score, then by id.
    proposer, hospital, units = _pair_units(matched, twin[matched], row_lists, column_lists)
    order = np.lexsort((proposer, -units, hospital))
    grouped: dict[int, list[str]] = {}
    proposer_order: list[int] = proposer[order].tolist()
    hospital_order: list[int] = hospital[order].tolist()
    for p, h in zip(proposer_order, hospital_order, strict=True):
        result[rows[p].id] = (columns[h].id,)
        grouped.setdefault(h, []).append(rows[p].id)
    for h, twins in grouped.items():
        result[columns[h].id] = tuple(twins)
    return result


def suggestion_maps(
    rows: Sequence[InterestProfile],
    columns: Sequence[InterestProfile],
    row_lists: CandidateLists,
    column_lists: CandidateLists,
    top_k: int,
) -> dict[str, tuple[Suggestion, ...]]:
    """Each resident's top-k suggestions, keyed by id, from the candidate lists."""
    with _bulk_objects():
        suggestions = _suggestion_map(rows, columns, row_lists, top_k)
        suggestions.update(_suggestion_map(columns, rows, column_lists, top_k))
    return suggestions


def assign_twins(
    rows: Sequence[InterestProfile],
    columns: Sequence[InterestProfile],
    row_lists: CandidateLists,
    column_lists: CandidateLists,
) -> dict[str, tuple[str, ...]]:
    """Each resident's twin(s), keyed by id (see :mod:`matching.twin`)."""
    with _bulk_objects():
        return _twin_map(rows, columns, row_lists, column_lists)


def match_pair(
    side_a: Sequence[InterestProfile],
    side_b: Sequence[InterestProfile],
    *,
    codes: Sequence[str],
    parent: ParentOf,
    settings: MatchSettings | None = None,
) -> PairResult:
    """Top-k suggestions both ways and the twins, for every resident of both sides.

    Rarity weights come from the union of both sides, which both nodes hold. The result
    is the same whichever side comes first and in whatever order the residents come.
    """
    settings = settings or MatchSettings()
    rows, columns = canonical_sides(side_a, side_b)
    weights = rarity_weights([*rows, *columns], codes, parent)
    row_lists, column_lists = candidate_pass(rows, columns, weights, settings)
    return PairResult(
        suggestions=suggestion_maps(rows, columns, row_lists, column_lists, settings.top_k),
        twins=assign_twins(rows, columns, row_lists, column_lists),
        weights=weights,
    )
