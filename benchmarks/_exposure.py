"""Exposure in the matching benchmark: how many lists each profile sits in, and the floor.

A profile's exposure is how many of the other city's lists it sits in. Besides the
figures of the capped and the unconstrained lists, this computes how evenly the gates
let suggestions spread at best, with every list full. For every owner to get ``top_k``
suggestions (or all its gate-passing candidates, when fewer), the gates decide which
profiles must carry that load: a language class of tens of thousands of residents that
may only meet a few thousand profiles puts hundreds of lists on each of them, however
the lists are chosen. The spread of least variance of that load (fractional, scores
ignored) shows how low the exposure Gini could go at all without leaving lists short;
the engine's caps can only be judged against it.

Owners that may meet the same profiles form a class (the language classes, or the
columns grouped by the classes they belong to), and profiles reached by the same owner
classes are interchangeable, so the problem is small: Frank–Wolfe over (owner class,
profile group) flows, whose optimum is unique in the loads. The achievable loads are
the bases of a coverage polymatroid, whose least-norm base is majorised by every other
base: no way of filling every list has a lower Gini or a lower maximum.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from matching.batch import unconstrained
from matching.score import SCORE_UNITS
from matching.settings import MatchSettings
from matching.twin import Choices

if TYPE_CHECKING:
    from benchmarks.matching import Match


class OwnerClass(Protocol):
    """Rows that may meet the same columns (a language class of the candidate pass)."""

    @property
    def rows(self) -> NDArray[Any]: ...

    @property
    def columns(self) -> NDArray[Any]: ...


def gini(values: np.ndarray) -> float:
    """Inequality of exposure: 0 everyone equally often suggested, 1 one person always."""
    if values.size == 0 or values.sum() == 0:
        return 0.0
    ordered = np.sort(values.astype(np.float64))
    n = ordered.size
    cumulative = np.cumsum(ordered)
    return float((n + 1 - 2 * (cumulative / cumulative[-1]).sum()) / n)


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


def floors_of(
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


def _list_figures(
    lists: tuple[Choices, Choices], sizes: tuple[int, int], top_k: int
) -> dict[str, Any]:
    """Exposure of each side in the other's lists, and the mean score of all suggestions."""
    figures: dict[str, Any] = {}
    for side, others_lists, size in (("rows", lists[1], sizes[0]), ("columns", lists[0], sizes[1])):
        counts = np.bincount(others_lists.hospital, minlength=size)
        figures[f"max_exposure_{side}"] = int(counts.max(initial=0))
        figures[f"mean_exposure_{side}"] = round(float(counts.mean()) if size else 0.0, 2)
        figures[f"gini_exposure_{side}"] = round(gini(counts), 4)
    for side, own, size in (("rows", lists[0], sizes[0]), ("columns", lists[1], sizes[1])):
        held = np.bincount(own.proposer, minlength=size)
        figures[f"short_lists_{side}"] = int((held < top_k).sum())
        figures[f"without_suggestions_{side}"] = int((held == 0).sum())
    units = np.concatenate((lists[0].units, lists[1].units))
    figures["mean_top10_score"] = round(float(units.mean()) / SCORE_UNITS, 4) if units.size else 0.0
    figures["score_sum"] = int(units.sum())
    return figures


def report(
    match: Match,
    settings: MatchSettings,
    figures: dict[str, Any],
    names: tuple[str, str],
    say: Callable[[str], None],
) -> None:
    """Twin share per city, and exposure with and without the caps."""
    sizes = (len(match.rows), len(match.columns))
    capped = _list_figures(match.spread, sizes, settings.top_k)
    free = _list_figures(
        (
            unconstrained(match.row_lists, settings.top_k),
            unconstrained(match.column_lists, settings.top_k),
        ),
        sizes,
        settings.top_k,
    )
    figures["mean_top10_score"] = capped["mean_top10_score"]
    figures["mean_top10_score_unconstrained"] = free["mean_top10_score"]
    figures["exposure_factor"] = settings.exposure_factor
    vectors = match.vectors
    floors = floors_of(vectors.classes, vectors.rows, vectors.columns, settings.top_k)
    for name, side, residents, floor in (
        (names[0], "rows", match.rows, floors[0]),
        (names[1], "columns", match.columns, floors[1]),
    ):
        figures[f"gini_exposure_floor_{name}"] = round(gini(floor), 4)
        figures[f"max_exposure_floor_{name}"] = round(float(floor.max(initial=0.0)), 1)
        with_twin = sum(1 for r in residents if match.twin_lists[r.id])
        figures[f"twin_share_{name}"] = round(with_twin / max(len(residents), 1), 4)
        for key in (
            "max_exposure",
            "mean_exposure",
            "gini_exposure",
            "short_lists",
            "without_suggestions",
        ):
            figures[f"{key}_{name}"] = capped[f"{key}_{side}"]
        for key in ("max_exposure", "gini_exposure"):
            figures[f"{key}_{name}_unconstrained"] = free[f"{key}_{side}"]
        say(
            f"{name}: twin share {figures[f'twin_share_{name}']:.2%}; as a suggestion in at most "
            f"{figures[f'max_exposure_{name}']} lists (unconstrained "
            f"{figures[f'max_exposure_{name}_unconstrained']}, mean "
            f"{figures[f'mean_exposure_{name}']}), exposure Gini "
            f"{figures[f'gini_exposure_{name}']} (unconstrained "
            f"{figures[f'gini_exposure_{name}_unconstrained']}); lists shorter than "
            f"{settings.top_k}: {figures[f'short_lists_{name}']}, empty: "
            f"{figures[f'without_suggestions_{name}']}; with every list full, the most even "
            f"spread the gates allow has Gini {figures[f'gini_exposure_floor_{name}']} and "
            f"puts {figures[f'max_exposure_floor_{name}']} lists on some profile"
        )
    change = figures["mean_top10_score"] / max(figures["mean_top10_score_unconstrained"], 1e-9) - 1
    figures["mean_top10_score_change"] = round(change, 4)
    # Lists left short lose their missing entries' scores too: the sum counts them.
    total = capped["score_sum"] / max(free["score_sum"], 1) - 1
    figures["top10_score_sum_change"] = round(total, 4)
    say(
        f"mean score of all suggestions {figures['mean_top10_score']} with the caps "
        f"(factor {settings.exposure_factor}), {figures['mean_top10_score_unconstrained']} "
        f"without ({change:+.2%}); sum of all suggestions' scores {total:+.2%}"
    )
