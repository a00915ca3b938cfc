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
from matching.candidates import CandidateLists, PairVectors, candidate_pass
from matching.exposure import exposure_cap, spread
from matching.profile import InterestProfile
from matching.results import PairResult, RankedLists
from matching.score import ParentOf
from matching.settings import MatchSettings
from matching.sides import canonical_sides
from matching.twin import Choices, Twins, capacity_for, stable_twins

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


def suggestion_lists(
    vectors: PairVectors,
    row_lists: CandidateLists,
    column_lists: CandidateLists,
    settings: MatchSettings,
) -> tuple[Choices, Choices]:
    """Rows' and columns' suggestions: the best ``top_k`` within the exposure caps.

    A resident of the larger side whose candidate list is used up asks for more
    (scored for the columns that would still take it). A resident of the smaller side
    chooses within its candidate list (``tuning.TWIN_CHOICES`` long): scoring more for
    it would mean the rows' side of every class, seconds for a few hundred residents,
    so the few whose whole list sits at the cap end with fewer than ``top_k``.
    """
    top_k = settings.top_k
    if settings.exposure_factor <= 0:
        return unconstrained(row_lists, top_k), unconstrained(column_lists, top_k)
    factor = settings.exposure_factor
    rows, columns = vectors.rows, vectors.columns
    held = np.bincount(row_lists.owner, minlength=rows)
    for_rows = spread(
        Choices(row_lists.owner, row_lists.other, row_lists.units),
        rows,
        columns,
        top_k,
        exposure_cap(rows, columns, top_k, factor),
        complete=held >= vectors.gated_columns(),
        more=vectors.row_scores().next_choices,
    )
    for_columns = spread(
        Choices(column_lists.owner, column_lists.other, column_lists.units),
        columns,
        rows,
        top_k,
        exposure_cap(columns, rows, top_k, factor),
    )
    return for_rows, for_columns


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
    vectors = PairVectors.of_sides(rows, columns, codes, parent, settings.kind_gates)
    weights = vectors.weights
    length = max(settings.top_k, tuning.TWIN_CHOICES, 1)
    row_lists, column_lists = candidate_pass(vectors, length, length)
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
