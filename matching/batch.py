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

from matching import tuning
from matching.candidates import CandidateLists, PairVectors, candidate_pass
from matching.profile import InterestProfile
from matching.results import PairResult, Suggestion
from matching.score import SCORE_UNITS, ParentOf, rarity_weights
from matching.settings import MatchSettings
from matching.sides import canonical_sides
from matching.twin import Choices, Twins, capacity_for, stable_twins

__all__ = ["assign_twins", "match_pair", "suggestion_maps", "twin_map"]


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


def _twin_map(
    rows: Sequence[InterestProfile], columns: Sequence[InterestProfile], twins: Twins
) -> dict[str, tuple[Suggestion, ...]]:
    result: dict[str, tuple[Suggestion, ...]] = {r.id: () for r in [*rows, *columns]}
    proposer = np.flatnonzero(twins.hospital >= 0)
    if proposer.size == 0:
        return result
    hospital, units = twins.hospital[proposer], twins.units[proposer]
    # A resident of the smaller side lists their twins by score, then by id.
    order = np.lexsort((proposer, -units, hospital))
    scores: list[float] = (units[order] / SCORE_UNITS).tolist()
    grouped: dict[int, list[Suggestion]] = {}
    for p, h, value in zip(proposer[order].tolist(), hospital[order].tolist(), scores, strict=True):
        result[rows[p].id] = (Suggestion(columns[h].id, value),)
        grouped.setdefault(h, []).append(Suggestion(rows[p].id, value))
    for h, twins_of in grouped.items():
        result[columns[h].id] = tuple(twins_of)
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


def assign_twins(vectors: PairVectors, row_lists: CandidateLists) -> Twins:
    """The stable twins among all gated pairs (see :mod:`matching.twin`).

    Rows start from their candidate lists; a list holding every gated column is complete,
    the others may ask for more.
    """
    held = np.bincount(row_lists.owner, minlength=vectors.rows)
    return stable_twins(
        Choices(row_lists.owner, row_lists.other, row_lists.units),
        proposers=vectors.rows,
        hospitals=vectors.columns,
        capacity=capacity_for(vectors.rows, vectors.columns),
        complete=held >= vectors.gated_columns(),
        more=vectors.row_scores().best_above,
    )


def twin_map(
    rows: Sequence[InterestProfile], columns: Sequence[InterestProfile], twins: Twins
) -> dict[str, tuple[Suggestion, ...]]:
    """Each resident's twin(s) with the pair's score, keyed by id."""
    with _bulk_objects():
        return _twin_map(rows, columns, twins)


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
    vectors = PairVectors.build(rows, columns, weights, settings.kind_gates)
    row_lists, column_lists = candidate_pass(
        vectors, max(settings.top_k, tuning.TWIN_CHOICES, 1), max(settings.top_k, 1)
    )
    twins = assign_twins(vectors, row_lists)
    return PairResult(
        suggestions=suggestion_maps(rows, columns, row_lists, column_lists, settings.top_k),
        twins=twin_map(rows, columns, twins),
        weights=weights,
    )
