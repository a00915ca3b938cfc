"""The twin: a stable assignment with capacities between the two sides.

Residents of the larger side propose (they are the "residents" of the hospitals /
residents problem), residents of the smaller side accept up to ``capacity`` twins each,
``capacity = ⌈larger / smaller⌉`` so that everybody of the larger side could be placed.
Preferences are by score, ties broken by the other's index (= id, the sides are sorted
by id), which makes every preference strict. With strict preferences the
proposer-optimal stable assignment is unique, so the order in which proposals are
processed cannot change the outcome: both nodes compute the same twins.

Every gate-passing pair is acceptable, so the assignment is stable among **all** gated
pairs: no two residents would both rather be each other's twins than keep what they
have. A proposer starts with the best few of its candidate list and asks for more only
when all of them turned it away (see ``matching._deferred``); a proposer that gets
nothing more has no twin, because every gated hospital holds enough residents it
prefers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from matching._arrays import BoolArray, Int64Array
from matching._deferred import Choices, MoreChoices, deferred_acceptance, hospital_keys

__all__ = ["Choices", "MoreChoices", "Twins", "capacity_for", "hospital_keys", "stable_twins"]


class Twins(NamedTuple):
    """Twin of each proposer (a hospital index, or -1) and the pair's score units (0)."""

    hospital: Int64Array
    units: Int64Array


def stable_twins(
    choices: Choices,
    proposers: int,
    hospitals: int,
    capacity: int,
    *,
    complete: BoolArray | None = None,
    more: MoreChoices | None = None,
) -> Twins:
    """The proposer-optimal stable assignment (see :func:`deferred_acceptance`)."""
    held = deferred_acceptance(
        choices, proposers, hospitals, 1, capacity, complete=complete, more=more
    )
    hospital = np.full(proposers, -1, dtype=np.int64)
    units = np.zeros(proposers, dtype=np.int64)
    hospital[held.proposer] = held.hospital
    units[held.proposer] = held.units
    return Twins(hospital, units)


def capacity_for(larger: int, smaller: int) -> int:
    """How many twins a resident of the smaller side may have: ⌈larger / smaller⌉."""
    return -(-larger // smaller) if smaller else 0
