"""Suggestions and twins for the whole population of a pair of partner cities.

Both nodes call :func:`match_pair` with their own residents first and must get the same
result, so nothing here depends on argument order, input order or hash seeds: each side
is sorted by id, the larger side always plays the rows (and proposes in the twin
assignment), scores are exact integers (``score.py``) and every tie is broken by id.

:func:`suggestions_for` refreshes one resident against a prepared :class:`SideIndex` of
the other side in milliseconds, with the rarity weights of the last full run. Weights
drift as residents come and go; that drift is picked up by the periodic full
recompute, never by a single refresh, so that a refresh cannot disagree with the
other node, which holds the same weights until it recomputes too.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from matching import _vectors
from matching._topk import CandidateLists, LanguageClass, candidate_lists
from matching.gates import DEFAULT_KIND_GATES, KindGates, Speaking, kinds_fit
from matching.profile import InterestProfile
from matching.score import (
    SCORE_UNITS,
    RarityWeights,
    age_bands,
    age_units,
    interest_vector,
    occupation_units,
    rarity_weights,
    speaking_units,
    units_to_score,
)
from matching.twin import capacity_for, stable_twins

ParentOf = Callable[[str], "str | None"]


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """What both nodes of a pair must configure identically.

    ``candidates`` is the length of the lists the twin assignment works on (at least
    ``top_k``): longer lists make the twins stable against more of the market.
    """

    kind_gates: KindGates = field(default_factory=lambda: DEFAULT_KIND_GATES)
    top_k: int = 10
    candidates: int = 32

    @property
    def list_length(self) -> int:
        return max(self.top_k, self.candidates, 1)


class Suggestion(NamedTuple):
    """Someone of the other side, with the pair's score in [0, 1].

    A named tuple rather than a dataclass: a full run creates millions of them.
    """

    other_id: str
    score: float


@dataclass(frozen=True, slots=True)
class PairResult:
    """Suggestions and twins for every resident of both sides, keyed by pseudonym."""

    suggestions: Mapping[str, tuple[Suggestion, ...]]
    twins: Mapping[str, tuple[str, ...]]
    weights: RarityWeights


def _sorted_side(side: Sequence[InterestProfile]) -> list[InterestProfile]:
    return sorted(side, key=lambda resident: resident.id)


def canonical_sides(
    side_a: Sequence[InterestProfile], side_b: Sequence[InterestProfile]
) -> tuple[list[InterestProfile], list[InterestProfile]]:
    """(larger, smaller), each sorted by id; equal sizes: the side with the smallest id first.

    Raises ValueError on a repeated id, which would make the result depend on which copy
    a node happened to see first.
    """
    a, b = _sorted_side(side_a), _sorted_side(side_b)
    ids = [r.id for r in a] + [r.id for r in b]
    if len(set(ids)) != len(ids):
        raise ValueError("resident ids must be unique across both sides")
    if len(a) != len(b):
        return (a, b) if len(a) > len(b) else (b, a)
    if a and a[0].id > b[0].id:
        return b, a
    return a, b


@dataclass(frozen=True, slots=True)
class _Layout:
    """Column layout of the score vectors of one pair of sides."""

    dimensions: int
    occupations: _vectors.Keys
    ages: _vectors.Keys
    occupation_table: np.ndarray
    age_table: np.ndarray

    @property
    def width(self) -> int:
        return self.dimensions + len(self.occupations.examples) + len(self.ages.examples) + 1


def _layout(residents: Sequence[InterestProfile], weights: RarityWeights) -> _Layout:
    occupations = _vectors.distinct(residents, _vectors.occupation_key)
    ages = _vectors.distinct(residents, _vectors.age_key)
    return _Layout(
        dimensions=len(weights.codes),
        occupations=occupations,
        ages=ages,
        occupation_table=_vectors.occupation_table(occupations, occupations),
        age_table=_vectors.age_table(ages, ages),
    )


def _score_vectors(
    residents: Sequence[InterestProfile],
    weights: RarityWeights,
    layout: _Layout,
    offset: int,
    *,
    left: bool,
) -> np.ndarray:
    """Left (one-hot) or right (table) vectors of residents ``offset …`` of the layout."""
    n = len(residents)
    vectors = np.zeros((n, layout.width), dtype=np.float32)
    sparse = _vectors.sparse_interests(residents, weights)
    vectors[sparse.resident, sparse.dim] = sparse.value
    occupation = layout.occupations.ids[offset : offset + n]
    age = layout.ages.ids[offset : offset + n]
    occ_start = layout.dimensions
    age_start = occ_start + len(layout.occupations.examples)
    if left:
        rows = np.arange(n)
        vectors[rows, occ_start + occupation] = 1.0
        vectors[rows, age_start + age] = 1.0
        vectors[:, -1] = 1.0
    else:
        vectors[:, occ_start:age_start] = layout.occupation_table[:, occupation].T
        vectors[:, age_start:-1] = layout.age_table[:, age].T
    return vectors


class _LeftVectors:
    """Left vectors of the rows, kept sparse and made dense one block at a time."""

    def __init__(
        self, residents: Sequence[InterestProfile], weights: RarityWeights, layout: _Layout
    ) -> None:
        sparse = _vectors.sparse_interests(residents, weights)
        self.width = layout.width
        self._starts = np.searchsorted(sparse.resident, np.arange(len(residents) + 1))
        self._dims = sparse.dim
        self._values = sparse.value.astype(np.float32)
        occ_start = layout.dimensions
        age_start = occ_start + len(layout.occupations.examples)
        self._occupation = occ_start + layout.occupations.ids[: len(residents)]
        self._age = age_start + layout.ages.ids[: len(residents)]

    def _entries(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position in ``rows``, position in the sparse arrays) of the rows' entries."""
        begin = self._starts[rows]
        counts = self._starts[rows + 1] - begin
        local = np.repeat(np.arange(rows.size), counts)
        offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        return local, np.repeat(begin, counts) + offsets

    def fill(self, rows: np.ndarray, out: np.ndarray) -> None:
        local, positions = self._entries(rows)
        out[local, self._dims[positions]] = self._values[positions]
        index = np.arange(rows.size)
        out[index, self._occupation[rows]] = 1.0
        out[index, self._age[rows]] = 1.0
        out[: rows.size, -1] = 1.0

    def used(self, rows: np.ndarray) -> np.ndarray:
        mask = np.zeros(self.width, dtype=bool)
        mask[self._dims[self._entries(rows)[1]]] = True
        mask[self._occupation[rows]] = True
        mask[self._age[rows]] = True
        mask[-1] = True
        return mask


def _language_classes(
    rows: Sequence[InterestProfile],
    columns: Sequence[InterestProfile],
    kind_gates: KindGates,
) -> list[LanguageClass]:
    """Rows grouped by identical gates and language units against every column."""
    row_keys = _vectors.distinct(rows, _vectors.language_signature)
    column_keys = _vectors.distinct(columns, _vectors.language_signature)
    table = _vectors.language_table(row_keys, column_keys, kind_gates)
    groups: dict[bytes, list[int]] = {}
    for signature, units in enumerate(table):
        if units.any():
            groups.setdefault(units.tobytes(), []).append(signature)
    classes: list[LanguageClass] = []
    for signatures in groups.values():
        units = table[signatures[0]][column_keys.ids]
        class_rows = np.flatnonzero(np.isin(row_keys.ids, signatures))
        class_columns = np.flatnonzero(units > 0)
        classes.append(
            LanguageClass(class_rows, class_columns, units[class_columns].astype(np.float32))
        )
    # Large classes first: column bounds rise early, later classes touch fewer columns.
    classes.sort(key=lambda c: (-c.rows.size * c.columns.size, int(c.rows[0])))
    return classes


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
    owners: Sequence[InterestProfile],
    others: Sequence[InterestProfile],
    lists: CandidateLists,
    top_k: int,
) -> dict[str, tuple[Suggestion, ...]]:
    starts = lists.starts(len(owners))
    rank = np.arange(lists.owner.size) - starts[lists.owner]
    keep = rank < top_k
    other_ids = [r.id for r in others]
    # The same correctly rounded division as units_to_score, done for all at once.
    scores = (lists.units[keep] / SCORE_UNITS).tolist()
    flat = list(map(Suggestion, [other_ids[j] for j in lists.other[keep].tolist()], scores))
    ends = np.cumsum(np.bincount(lists.owner[keep], minlength=len(owners))).tolist()
    result: dict[str, tuple[Suggestion, ...]] = {}
    begin = 0
    for resident, end in zip(owners, ends, strict=True):
        result[resident.id] = tuple(flat[begin:end])
        begin = end
    return result


def _twin_map(
    rows: Sequence[InterestProfile],
    columns: Sequence[InterestProfile],
    row_lists: CandidateLists,
    column_lists: CandidateLists,
) -> dict[str, tuple[str, ...]]:
    twin = stable_twins(
        np.concatenate((row_lists.owner, column_lists.other)),
        np.concatenate((row_lists.other, column_lists.owner)),
        np.concatenate((row_lists.units, column_lists.units)),
        proposers=len(rows),
        hospitals=len(columns),
        capacity=capacity_for(len(rows), len(columns)),
    )
    result: dict[str, tuple[str, ...]] = {r.id: () for r in [*rows, *columns]}
    matched = np.flatnonzero(twin >= 0)
    if matched.size == 0:
        return result
    # A resident of the smaller side lists their twins by score, then by id.
    proposer, hospital, units = _pair_units(matched, twin[matched], row_lists, column_lists)
    order = np.lexsort((proposer, -units, hospital))
    grouped: dict[int, list[str]] = {}
    for p, h in zip(proposer[order].tolist(), hospital[order].tolist(), strict=True):
        result[rows[p].id] = (columns[h].id,)
        grouped.setdefault(h, []).append(rows[p].id)
    for h, twins in grouped.items():
        result[columns[h].id] = tuple(twins)
    return result


def _pair_units(
    proposer: np.ndarray,
    hospital: np.ndarray,
    row_lists: CandidateLists,
    column_lists: CandidateLists,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The scores of the twin pairs, looked up in the candidate lists they came from."""
    owner = np.concatenate((row_lists.owner, column_lists.other)).astype(np.int64)
    other = np.concatenate((row_lists.other, column_lists.owner)).astype(np.int64)
    units = np.concatenate((row_lists.units, column_lists.units))
    proposer, hospital = proposer.astype(np.int64), hospital.astype(np.int64)
    span = int(max(hospital.max(initial=0), other.max(initial=0))) + 1
    edge_key = owner * span + other
    order = np.argsort(edge_key, kind="stable")
    found = order[np.searchsorted(edge_key[order], proposer * span + hospital)]
    return proposer, hospital, units[found]


def candidate_pass(
    rows: Sequence[InterestProfile],
    columns: Sequence[InterestProfile],
    weights: RarityWeights,
    settings: MatchSettings,
) -> tuple[CandidateLists, CandidateLists]:
    """Every resident's best candidates of the other side, both ways, in one pass.

    ``rows`` and ``columns`` as returned by :func:`canonical_sides`. List indices refer
    to positions in those sequences.
    """
    layout = _layout([*rows, *columns], weights)
    left = _LeftVectors(rows, weights, layout)
    right = _score_vectors(columns, weights, layout, len(rows), left=False)
    classes = _language_classes(rows, columns, settings.kind_gates)
    return candidate_lists(left, right, classes, settings.list_length)


def suggestion_maps(
    rows: Sequence[InterestProfile],
    columns: Sequence[InterestProfile],
    row_lists: CandidateLists,
    column_lists: CandidateLists,
    top_k: int,
) -> dict[str, tuple[Suggestion, ...]]:
    """Each resident's top-k suggestions, keyed by id, from the candidate lists."""
    with _bulk_objects():
        suggestions = _suggestion_map(rows, columns, row_lists, top_k)
        suggestions.update(_suggestion_map(columns, rows, column_lists, top_k))
    return suggestions


def assign_twins(
    rows: Sequence[InterestProfile],
    columns: Sequence[InterestProfile],
    row_lists: CandidateLists,
    column_lists: CandidateLists,
) -> dict[str, tuple[str, ...]]:
    """Each resident's twin(s), keyed by id (see :mod:`matching.twin`)."""
    with _bulk_objects():
        return _twin_map(rows, columns, row_lists, column_lists)


def match_sorted(
    rows: Sequence[InterestProfile],
    columns: Sequence[InterestProfile],
    weights: RarityWeights,
    settings: MatchSettings,
) -> PairResult:
    """:func:`match_pair` on sides already in canonical order, with given weights."""
    row_lists, column_lists = candidate_pass(rows, columns, weights, settings)
    return PairResult(
        suggestions=suggestion_maps(rows, columns, row_lists, column_lists, settings.top_k),
        twins=assign_twins(rows, columns, row_lists, column_lists),
        weights=weights,
    )


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
    return match_sorted(rows, columns, weights, settings)


_GATE_FAILS = -(1 << 30)
"""Added to every score of a pair that fails a gate: far below any score, still int32."""


@dataclass(frozen=True, slots=True, eq=False)
class SideIndex:
    """One side prepared for single-resident refreshes against it.

    Holds the side's interest vectors dimension-major (a query reads only the rows of
    the dimensions it has) and, per resident, one id of its combination of occupation,
    age and language keys: a query evaluates the scalar rules once per distinct key
    and once per combination, never once per resident.
    """

    residents: tuple[InterestProfile, ...]
    ids: tuple[str, ...]
    weights: RarityWeights
    interests: np.ndarray = field(repr=False)  # float32, dimensions × residents
    occupations: tuple[InterestProfile, ...] = field(repr=False)
    ages: tuple[InterestProfile, ...] = field(repr=False)
    speaking: tuple[tuple[str, Speaking], ...] = field(repr=False)
    combination: np.ndarray = field(repr=False)  # int64 per resident
    combinations: np.ndarray = field(repr=False)  # (occupation, age, language) key ids

    @classmethod
    def build(cls, residents: Sequence[InterestProfile], weights: RarityWeights) -> SideIndex:
        ordered = tuple(_sorted_side(residents))
        occupations = _vectors.distinct(ordered, _vectors.occupation_key)
        ages = _vectors.distinct(ordered, _vectors.age_key)
        languages = _vectors.distinct(ordered, _vectors.language_signature)
        keys = np.stack((occupations.ids, ages.ids, languages.ids), axis=1)
        combinations, combination = np.unique(keys, axis=0, return_inverse=True)
        interests = np.zeros((len(weights.codes), len(ordered)), dtype=np.float32)
        sparse = _vectors.sparse_interests(ordered, weights)
        interests[sparse.dim, sparse.resident] = sparse.value
        return cls(
            residents=ordered,
            ids=tuple(r.id for r in ordered),
            weights=weights,
            interests=interests,
            occupations=occupations.examples,
            ages=ages.examples,
            speaking=tuple((r.kind, Speaking.of(r)) for r in languages.examples),
            combination=combination.reshape(-1),
            combinations=combinations.reshape(-1, 3),
        )

    def units_for(self, resident: InterestProfile, kind_gates: KindGates) -> np.ndarray:
        """Score units of ``resident`` with everyone indexed; negative where a gate fails."""
        units = np.zeros(len(self.ids), dtype=np.float32)
        scaled = np.empty_like(units)
        # Integer products and sums below 2**24: exact in float32, in any order.
        for dim, value in interest_vector(resident, self.weights).items():
            np.multiply(self.interests[dim], np.float32(value), out=scaled)
            units += scaled
        bands = age_bands(resident)
        occupation = np.array(
            [occupation_units(resident.occupation, o.occupation) for o in self.occupations],
            dtype=np.int64,
        )
        age = np.array([age_units(bands, age_bands(o)) for o in self.ages], dtype=np.int64)
        speaking = Speaking.of(resident)
        language = np.array(
            [
                speaking_units(speaking, other) if kinds_fit(resident.kind, kind, kind_gates) else 0
                for kind, other in self.speaking
            ],
            dtype=np.int64,
        )
        occ, age_id, lang = self.combinations.T
        static = np.where(
            language[lang] > 0, occupation[occ] + age[age_id] + language[lang], _GATE_FAILS
        ).astype(np.int32)
        return units.astype(np.int32) + static[self.combination]


def suggestions_for(
    resident: InterestProfile,
    index: SideIndex,
    weights: RarityWeights,
    settings: MatchSettings | None = None,
) -> tuple[Suggestion, ...]:
    """One resident's top-k of the indexed side, as the last full run would give it.

    ``weights`` must be the weights the index was built with (those of the last full
    run); see the module documentation for why a refresh never recomputes them.
    """
    settings = settings or MatchSettings()
    if weights != index.weights:
        raise ValueError("the index was built with other rarity weights")
    units = index.units_for(resident, settings.kind_gates)
    top_k = settings.top_k
    if top_k <= 0 or not units.size:
        return ()
    if units.size > top_k:
        kth = np.partition(units, units.size - top_k)[units.size - top_k]
        candidates = np.flatnonzero(units >= max(int(kth), 1))
    else:
        candidates = np.flatnonzero(units > 0)
    candidates = candidates.astype(np.int64)
    order = np.lexsort((candidates, -units[candidates].astype(np.int64)))[:top_k]
    return tuple(
        Suggestion(index.ids[i], units_to_score(int(units[i]))) for i in candidates[order].tolist()
    )
