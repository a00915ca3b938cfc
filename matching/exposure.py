"""Suggestion lists that spread attention: nobody in thousands of lists, others in none.

Unconstrained top-10 lists pile up on a few profiles that score well with almost
everybody (one sat in about 1,500 lists of the larger city). Here each profile may sit
in at most ``cap`` lists of the other city's residents: owners (whose lists these are)
propose to their candidates best first, a profile keeps the ``cap`` owners it scores
highest with (ties by the lower index), and an owner turned away goes on down its list,
asking for more candidates when its first ones are used up (``matching._deferred``,
with a quota of ``top_k`` per owner). The outcome is unique whatever the order of
proposals, so both nodes get the same lists; an owner ends with fewer than ``top_k``
only when every other profile it may ask is held by ``cap`` owners it suits better.
"""

from __future__ import annotations

import math

from matching._arrays import BoolArray
from matching._deferred import Choices, MoreChoices, deferred_acceptance

__all__ = ["exposure_cap", "spread"]


def exposure_cap(owners: int, others: int, top_k: int, factor: float) -> int:
    """``factor`` times the mean number of lists a profile of the other side sits in."""
    if others == 0 or top_k <= 0:
        return 0
    return max(1, math.ceil(factor * owners * top_k / others))


def spread(
    first: Choices,
    owners: int,
    others: int,
    top_k: int,
    cap: int,
    *,
    complete: BoolArray | None = None,
    more: MoreChoices | None = None,
) -> Choices:
    """Each owner's list (at most ``top_k``), sorted by owner then score and index.

    ``first`` are the owners' best candidates in preference order; ``complete[o]`` says
    they are all of owner ``o``'s gate-passing candidates, and the others ask ``more``
    when left short. Without ``more``, owners choose within ``first``.
    """
    return deferred_acceptance(
        first, owners, others, top_k, cap, complete=complete, more=more, more_count=4 * top_k
    )
