"""The full run: suggestions and twins for the whole population of a pair of partner cities.

Both nodes call :func:`match_pair` with their own residents first and must get the same
result, so nothing here depends on argument order, input order or hash seeds: the sides
are put in canonical order (``sides.py``), scores are exact integers (``score.py``) and
every tie is broken by id.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from matching import tuning
from matching._arrays import Int64Array
from matching._rows import RowScores
from matching.candidates import CandidateLists, PairVectors, candidate_pass
from matching.exposure import exposure_cap, spread
from matching.profile import InterestProfile
from matching.results import PairResult, RankedLists
from matching.score import ParentOf, rarity_weights
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


def _both_sides(rows: Sequence[InterestProfile], columns: Sequence[InterestProfile]) -> list[str]:
    """Ids of both sides in one list: rows first, so a column is ``len(rows) + index``."""
    return [r.id for r in rows] + [c.id for c in columns]


def suggestion_maps(
    rows: Sequence[InterestProfile],
    columns: Sequence[InterestProfile],
    row_lists: Choices,
    column_lists: Choices,
) -> RankedLists:
    """Each resident's suggestions, keyed by id, from :func:`suggestion_lists`."""
    shift = len(rows)
    return RankedLists(
        _both_sides(rows, columns),
        np.concatenate((row_lists.proposer, np.asarray(column_lists.proposer) + shift)),
        np.concatenate((np.asarray(row_lists.hospital) + shift, column_lists.hospital)),
        np.concatenate((row_lists.units, column_lists.units)),
    )


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
) -> RankedLists:
    """Each resident's twin(s) with the pair's score, keyed by id; a resident of the
    smaller side lists its twins by score, then by id."""
    shift = len(rows)
    proposer = np.flatnonzero(twins.hospital >= 0)
    hospital, units = twins.hospital[proposer], twins.units[proposer]
    owner = np.concatenate((proposer, hospital + shift))
    other = np.concatenate((hospital + shift, proposer))
    both = np.concatenate((units, units))
    order = np.lexsort((other, -both, owner))
    return RankedLists(_both_sides(rows, columns), owner[order], other[order], both[order])


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
