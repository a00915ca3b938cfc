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
from matching._arrays import Int64Array
from matching._rows import RowScores
from matching.candidates import CandidateLists, PairVectors, candidate_pass
from matching.exposure import exposure_cap, spread
from matching.profile import InterestProfile
from matching.results import PairResult, Suggestion
from matching.score import SCORE_UNITS, ParentOf, rarity_weights
from matching.settings import MatchSettings
from matching.sides import canonical_sides
from matching.twin import Choices, MoreChoices, Twins, capacity_for, stable_twins

__all__ = [
    "assign_twins",
    "match_pair",
    "suggestion_lists",
    "suggestion_maps",
    "twin_map",
    "unconstrained",
]


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
    owners: Sequence[InterestProfile], others: Sequence[InterestProfile], lists: Choices
) -> dict[str, tuple[Suggestion, ...]]:
    other_ids = [r.id for r in others]
    # The same correctly rounded division as units_to_score, done for all at once.
    scores: list[float] = (lists.units / SCORE_UNITS).tolist()
    others_kept: list[int] = lists.hospital.tolist()
    flat = list(map(Suggestion, [other_ids[j] for j in others_kept], scores))
    ends: list[int] = np.cumsum(np.bincount(lists.proposer, minlength=len(owners))).tolist()
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
    row_lists: Choices,
    column_lists: Choices,
) -> dict[str, tuple[Suggestion, ...]]:
    """Each resident's suggestions, keyed by id, from :func:`suggestion_lists`."""
    with _bulk_objects():
        suggestions = _suggestion_map(rows, columns, row_lists)
        suggestions.update(_suggestion_map(columns, rows, column_lists))
    return suggestions


def unconstrained(lists: CandidateLists, top_k: int) -> Choices:
    """The first ``top_k`` of each candidate list: everyone's best, exposure aside."""
    rank = np.arange(lists.owner.size) - np.searchsorted(lists.owner, lists.owner)
    keep = rank < top_k
    return Choices(
        lists.owner[keep].astype(np.int64),
        lists.other[keep].astype(np.int64),
        lists.units[keep].astype(np.int64),
    )


class _ColumnScores:
    """The columns' rows of scores, built only if a column's first choices run out."""

    def __init__(self, vectors: PairVectors) -> None:
        self._vectors = vectors
        self._scores: RowScores | None = None

    def __call__(
        self,
        proposers: Int64Array,
        last_units: Int64Array,
        last_hospital: Int64Array,
        bars: Int64Array,
        count: int,
    ) -> Choices:
        if self._scores is None:
            self._scores = self._vectors.swapped().row_scores()
        return self._scores.next_choices(proposers, last_units, last_hospital, bars, count)


def suggestion_lists(
    vectors: PairVectors,
    row_lists: CandidateLists,
    column_lists: CandidateLists,
    settings: MatchSettings,
) -> tuple[Choices, Choices]:
    """Rows' and columns' suggestions: the best ``top_k`` within the exposure caps."""
    top_k = settings.top_k
    if settings.exposure_factor <= 0:
        return unconstrained(row_lists, top_k), unconstrained(column_lists, top_k)
    factor = settings.exposure_factor
    sides = (
        (row_lists, vectors.rows, vectors.columns, vectors.gated_columns()),
        (column_lists, vectors.columns, vectors.rows, vectors.gated_rows()),
    )
    more: tuple[MoreChoices, MoreChoices] = (
        vectors.row_scores().next_choices,
        _ColumnScores(vectors),
    )
    spread_lists = []
    for (lists, owners, others, gated), asks in zip(sides, more, strict=True):
        held = np.bincount(lists.owner, minlength=owners)
        spread_lists.append(
            spread(
                Choices(lists.owner, lists.other, lists.units),
                owners,
                others,
                top_k,
                exposure_cap(owners, others, top_k, factor),
                complete=held >= gated,
                more=asks,
            )
        )
    return spread_lists[0], spread_lists[1]


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
        more=vectors.row_scores().next_choices,
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
    row_suggestions, column_suggestions = suggestion_lists(
        vectors, row_lists, column_lists, settings
    )
    del vectors, row_lists, column_lists
    return PairResult(
        suggestions=suggestion_maps(rows, columns, row_suggestions, column_suggestions),
        twins=twin_map(rows, columns, twins),
        weights=weights,
    )
