"""The filters of "Find people" and the index that answers them for one generation of
a peer's prepared side: per interest, spoken and learnt language, age band and
occupation area, the positions (in ``SideIndex.residents``) of the profiles that hold
it. Built once per side in one pass over the profiles; a filter is then a few array
operations, whatever the size of the partner city.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from matching.taxonomy import Taxonomy
from node.matches.state import PeerIndex

IndexArray = NDArray[np.intp]
_NOBODY: IndexArray = np.zeros(0, dtype=np.intp)


@dataclass(frozen=True, slots=True)
class Filters:
    """What the resident narrowed the list to; every field is already a known value.

    ``interests``: the profile holds at least one of them (a category matches any of its
    interests and the category itself, as a rare interest is published as its category).
    ``occupation`` is an ISCO-08 major group (one digit).
    """

    interests: tuple[str, ...] = ()
    speaks: str | None = None
    learns: str | None = None
    age_band: str | None = None
    occupation: str | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Facets:
    """Positions (into ``SideIndex.residents``) per value of each filter."""

    positions: Mapping[str, int]  # actor URL -> position
    interests: Mapping[str, IndexArray]
    speaks: Mapping[str, IndexArray]
    learns: Mapping[str, IndexArray]
    age_bands: Mapping[str, IndexArray]
    occupations: Mapping[str, IndexArray]

    @classmethod
    def build(cls, prepared: PeerIndex, taxonomy: Taxonomy) -> Facets:
        """One pass over the profiles (a plain loop: faster here than grouping flat
        arrays with NumPy, which has to sort them)."""
        categories: dict[str, str] = {}
        interests: dict[str, list[int]] = {}
        speaks: dict[str, list[int]] = {}
        learns: dict[str, list[int]] = {}
        ages: dict[str, list[int]] = {}
        occupations: dict[str, list[int]] = {}
        residents = prepared.index.residents
        for i, resident in enumerate(residents):
            codes: set[str] = set()
            for code in resident.interests:
                if code not in categories:
                    categories[code] = _category(code, taxonomy)
                codes.update((code, categories[code]))
            for code in codes:
                interests.setdefault(code, []).append(i)
            for code in resident.languages:
                speaks.setdefault(code, []).append(i)
            for code in resident.learning:
                learns.setdefault(code, []).append(i)
            for band in {resident.age_band, *resident.children_age_bands}:
                if band:
                    ages.setdefault(band, []).append(i)
            if resident.occupation:
                occupations.setdefault(resident.occupation[0], []).append(i)
        return cls(
            positions={resident.id: i for i, resident in enumerate(residents)},
            interests=_arrays(interests),
            speaks=_arrays(speaks),
            learns=_arrays(learns),
            age_bands=_arrays(ages),
            occupations=_arrays(occupations),
        )

    def mask(self, filters: Filters, size: int) -> NDArray[np.bool_] | None:
        """Who passes every filter, or None when nothing is filtered."""
        wanted: list[Iterable[IndexArray]] = []
        if filters.interests:
            wanted.append([self.interests.get(code, _NOBODY) for code in filters.interests])
        for value, table in (
            (filters.speaks, self.speaks),
            (filters.learns, self.learns),
            (filters.age_band, self.age_bands),
            (filters.occupation, self.occupations),
        ):
            if value is not None:
                wanted.append([table.get(value, _NOBODY)])
        if not wanted:
            return None
        result = np.ones(size, dtype=np.bool_)
        for any_of in wanted:
            passes = np.zeros(size, dtype=np.bool_)
            for positions in any_of:
                passes[positions] = True
            result &= passes
        return result


def _category(code: str, taxonomy: Taxonomy) -> str:
    """The category a held code belongs to (a code this node does not know, which a
    stored vector should not hold, counts as its own first segment)."""
    known = taxonomy.normalise(code)
    return taxonomy.category(known) if known is not None else code.split(".")[0]


def _arrays(lists: dict[str, list[int]]) -> dict[str, IndexArray]:
    return {key: np.asarray(value, dtype=np.intp) for key, value in lists.items()}
