"""How evenly the gates let suggestions spread at best, with every list full.

A profile's exposure is how many of the other city's lists it sits in. For every owner
to get ``top_k`` suggestions (or all its gate-passing candidates, when fewer), the gates
decide which profiles must carry that load: a language class of tens of thousands of
residents that may only meet a few thousand profiles puts hundreds of lists on each of
them, however the lists are chosen. The spread of least variance of that load
(fractional, scores ignored) shows how low the exposure Gini could go at all without
leaving lists short; the engine's caps can only be judged against it.

Owners that may meet the same profiles form a class (the language classes, or the
columns grouped by the classes they belong to), and profiles reached by the same owner
classes are interchangeable, so the problem is small: Frank–Wolfe over (owner class,
profile group) flows, whose optimum is unique in the loads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray


class OwnerClass(Protocol):
    """Rows that may meet the same columns (a language class of the candidate pass)."""

    @property
    def rows(self) -> NDArray[Any]: ...

    @property
    def columns(self) -> NDArray[Any]: ...


ROUNDS = 2000
"""Frank–Wolfe steps: the loads' squared sum is then within a fraction of a percent."""


def even_loads(
    reach: Sequence[NDArray[Any]], demand: Sequence[float], profiles: int, rounds: int = ROUNDS
) -> np.ndarray:
    """Per profile, its load in the least-variance spread of ``demand``.

    ``reach[c]`` are the profiles owner class ``c`` may use; its ``demand[c]`` list
    places are spread over them in any proportion.
    """
    member = np.zeros((profiles, len(reach)), dtype=bool)
    for c, profiles_of_class in enumerate(reach):
        member[profiles_of_class, c] = True
    packed = np.packbits(member, axis=1)
    signatures, group = np.unique(packed, axis=0, return_inverse=True)
    group = group.ravel()
    reaches = np.unpackbits(signatures, axis=1, count=len(reach)).astype(bool)  # group × class
    size = np.bincount(group, minlength=len(signatures)).astype(np.float64)
    wanted = np.asarray(demand, dtype=np.float64)
    # Start from each class spread in proportion to group sizes.
    share = np.where(reaches, size[:, None], 0.0)
    flow = share / np.maximum(share.sum(axis=0), 1.0) * wanted  # group × class
    classes = np.arange(len(reach))
    for step in range(rounds):
        load = flow.sum(axis=1) / size
        # The gradient of the squared loads is 2·load: each class's cheapest direction
        # is all of its demand on its least loaded group.
        best = np.argmin(np.where(reaches, load[:, None], np.inf), axis=0)
        target = np.zeros_like(flow)
        target[best, classes] = wanted
        rate = 2.0 / (step + 2)
        flow = (1 - rate) * flow + rate * target
    return (flow.sum(axis=1) / size)[group]


def floors(
    classes: Sequence[OwnerClass], rows: int, columns: int, top_k: int
) -> tuple[np.ndarray, np.ndarray]:
    """(rows' loads in the columns' lists, columns' loads in the rows' lists)."""
    column_loads = even_loads(
        [c.columns for c in classes],
        [c.rows.size * min(top_k, c.columns.size) for c in classes],
        columns,
    )
    member = np.zeros((columns, len(classes)), dtype=bool)
    for c, language_class in enumerate(classes):
        member[language_class.columns, c] = True
    signatures, group = np.unique(np.packbits(member, axis=1), axis=0, return_inverse=True)
    group = group.ravel()
    reach: list[NDArray[Any]] = []
    demand: list[float] = []
    for g, signature in enumerate(np.unpackbits(signatures, axis=1, count=len(classes))):
        met = [classes[c].rows for c in np.flatnonzero(signature)]
        if not met:
            continue
        rows_met = np.concatenate(met)
        reach.append(rows_met)
        demand.append(float((group == g).sum()) * min(top_k, rows_met.size))
    row_loads = even_loads(reach, demand, rows) if reach else np.zeros(rows)
    return row_loads, column_loads
