"""A whole run's lists, read per resident or, for storing, all at once as arrays."""

from __future__ import annotations

import numpy as np
import pytest

from matching.results import RankedLists, Suggestion
from matching.score import SCORE_UNITS

IDS = ["a", "b", "c", "x", "y"]


def lists() -> RankedLists:
    """a: x then y; b: nothing; c: y; x: a; y: c then a (positions in IDS)."""
    owner = np.array([0, 0, 2, 3, 4, 4])
    other = np.array([3, 4, 4, 0, 2, 0])
    units = np.array([9, 8, 7, 9, 7, 8]) * SCORE_UNITS // 10
    return RankedLists(IDS, owner, other, units)


def test_a_residents_list_in_rank_order() -> None:
    ranked = lists()
    nine, eight = 9 * SCORE_UNITS // 10 / SCORE_UNITS, 8 * SCORE_UNITS // 10 / SCORE_UNITS
    assert ranked["a"] == (Suggestion("x", nine), Suggestion("y", eight))
    assert ranked["b"] == ()
    assert len(ranked) == 5 and list(ranked) == IDS


def test_entries_agree_with_the_lists_read_one_by_one() -> None:
    ranked = lists()
    owners, others = ["c", "b", "a"], ["y", "x"]
    owner, other, units = ranked.entries(owners, others)
    read = [
        (owners[o], others[t], u / SCORE_UNITS)
        for o, t, u in zip(owner.tolist(), other.tolist(), units.tolist(), strict=True)
    ]
    expected = [
        (resident, suggestion.other_id, suggestion.score)
        for resident in owners
        for suggestion in ranked[resident]
    ]
    assert read == expected


def test_entries_refuse_others_that_leave_out_a_listed_resident() -> None:
    with pytest.raises(ValueError, match="missing"):
        lists().entries(["a"], ["x"])
