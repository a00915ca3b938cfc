"""One resident's suggestions, refreshed in milliseconds between two full runs.

A refresh scores one resident against a prepared :class:`SideIndex` of the other side
with the rarity weights of the last full run. Weights drift as residents come and go;
that drift is picked up by the periodic full run, never by a single refresh, so that a
refresh cannot disagree with the other node, which holds the same weights until it
recomputes too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from matching import _vectors
from matching._arrays import Float32Array, IndexArray, Int32Array, Int64Array
from matching.gates import KindGates, Speaking, kinds_fit
from matching.profile import InterestProfile
from matching.results import Suggestion
from matching.score import (
    RarityWeights,
    age_bands,
    age_units,
    interest_vector,
    occupation_units,
    speaking_units,
    units_to_score,
)
from matching.settings import MatchSettings
from matching.sides import sorted_by_id

__all__ = ["SideIndex", "suggestions_for"]

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
    interests: Float32Array = field(repr=False)  # dimensions × residents
    occupations: tuple[InterestProfile, ...] = field(repr=False)
    ages: tuple[InterestProfile, ...] = field(repr=False)
    speaking: tuple[tuple[str, Speaking], ...] = field(repr=False)
    combination: IndexArray = field(repr=False)  # per resident
    combinations: Int64Array = field(repr=False)  # (occupation, age, language) key ids

    @classmethod
    def build(cls, residents: Sequence[InterestProfile], weights: RarityWeights) -> SideIndex:
        ordered = tuple(sorted_by_id(residents))
        occupations = _vectors.distinct(ordered, _vectors.occupation_key)
        ages = _vectors.distinct(ordered, _vectors.age_key)
        languages = _vectors.language_keys(ordered)
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

    def units_for(self, resident: InterestProfile, kind_gates: KindGates) -> Int32Array:
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
        result: Int32Array = units.astype(np.int32) + static[self.combination]
        return result


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
    order = np.lexsort((candidates, -units[candidates].astype(np.int64)))[:top_k]
    chosen: list[int] = candidates[order].tolist()
    return tuple(Suggestion(index.ids[i], units_to_score(int(units[i]))) for i in chosen)
