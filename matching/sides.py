"""The canonical order of a pair's two sides.

Each node calls with its own residents first, in whatever order its database returns
them, and both must reach the same result. So each side is sorted by id and the larger
side always plays the rows (and proposes in the twin assignment); the argument order
then cannot show in the result.
"""

from __future__ import annotations

from collections.abc import Sequence

from matching.profile import InterestProfile


def sorted_by_id(side: Sequence[InterestProfile]) -> list[InterestProfile]:
    """The one resident order both nodes can agree on without talking to each other."""
    return sorted(side, key=lambda resident: resident.id)


def canonical_sides(
    side_a: Sequence[InterestProfile], side_b: Sequence[InterestProfile]
) -> tuple[list[InterestProfile], list[InterestProfile]]:
    """(larger, smaller), each sorted by id; equal sizes: the side with the smallest id first.

    Raises ValueError on a repeated id, which would make the result depend on which copy
    a node happened to see first.
    """
    a, b = sorted_by_id(side_a), sorted_by_id(side_b)
    ids = [r.id for r in a] + [r.id for r in b]
    if len(set(ids)) != len(ids):
        raise ValueError("resident ids must be unique across both sides")
    if len(a) != len(b):
        return (a, b) if len(a) > len(b) else (b, a)
    if a and a[0].id > b[0].id:
        return b, a
    return a, b
