"""The CPU-heavy part of a full computation: vectors in, rows to store out.

It runs away from the event loop, in a worker thread or in a process of its own
(:mod:`node.matches._offload`), so it takes and returns compact, picklable data: the
stored vectors as one JSON text per side, the database ids as NumPy arrays, and the
results as NumPy arrays of database ids, ranks and scores (plus, for SQLite, the rows
already as JSON texts, which the database unpacks itself without the interpreter). Parsing
two cities' vectors, matching them and building 1.8 million rows would otherwise hold the
event loop (or the interpreter lock the loop needs) for seconds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matching.batch import match_pair
from matching.profile import InterestProfile
from matching.refresh import SideIndex
from matching.results import RankedLists
from matching.score import SCORE_UNITS, RarityWeights, rarity_weights
from matching.settings import MatchSettings
from node.vectors.stored import stored_profile

Ids = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Rows:
    """Result rows of one kind (suggestions or twins), sorted by resident then rank."""

    resident_id: Ids
    remote_profile_id: Ids
    rank: NDArray[np.int32]
    score: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.resident_id.size)

    def take(self, keep: NDArray[np.bool_]) -> Rows:
        return Rows(
            self.resident_id[keep], self.remote_profile_id[keep], self.rank[keep], self.score[keep]
        )

    def json_batches(self, size: int, *, ranked: bool) -> list[str]:
        """The rows as JSON arrays of ``[resident, remote profile, (rank,) score]``, at
        most ``size`` to a text. ``repr`` of a float (what ``json`` writes) reads back
        as the very same double."""
        batches = []
        for start in range(0, len(self), size):
            window = slice(start, start + size)
            columns: list[list[Any]] = [
                self.resident_id[window].tolist(),
                self.remote_profile_id[window].tolist(),
            ]
            if ranked:
                columns.append(self.rank[window].tolist())
            columns.append(self.score[window].tolist())
            batches.append(json.dumps(list(zip(*columns, strict=True)), separators=(",", ":")))
        return batches


@dataclass(frozen=True, slots=True)
class MatchJob:
    """Both sides as stored, and what the matching must be configured with."""

    base_url: str
    pseudonyms: str
    """The local residents' pseudonyms towards the peer, one per line."""
    resident_ids: Ids
    local_vectors: str
    """One JSON array of the published vectors, in the order of ``pseudonyms``."""
    remote_actors: str
    remote_ids: Ids
    remote_vectors: str
    codes: tuple[str, ...]
    parents: Mapping[str, str | None]
    settings: MatchSettings
    json_batch: int = 0
    """Rows per JSON text for SQLite; 0 for none."""


@dataclass(frozen=True, slots=True)
class MatchOutput:
    suggestions: Rows
    twins: Rows
    index: SideIndex
    weights: RarityWeights
    suggestion_json: list[str] = field(default_factory=list)
    twin_json: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def run(job: MatchJob) -> MatchOutput:
    """Parse, match and lay out the rows; see the module docstring."""
    started = time.perf_counter()
    prefix = f"{job.base_url}/p/"
    local = _profiles(job.local_vectors, [prefix + p for p in _lines(job.pseudonyms)])
    remote = _profiles(job.remote_vectors, _lines(job.remote_actors))
    parsed = time.perf_counter()
    result = match_pair(
        local, remote, codes=job.codes, parent=job.parents.__getitem__, settings=job.settings
    )
    matched = time.perf_counter()
    local_ids, remote_ids = [p.id for p in local], [p.id for p in remote]
    suggestions = _rows(result.suggestions, local_ids, remote_ids, job)
    twins = _rows(result.twins, local_ids, remote_ids, job)
    index = SideIndex.build(remote, result.weights)
    suggestion_json = (
        suggestions.json_batches(job.json_batch, ranked=True) if job.json_batch else []
    )
    twin_json = twins.json_batches(job.json_batch, ranked=False) if job.json_batch else []
    done = time.perf_counter()
    return MatchOutput(
        suggestions=suggestions,
        twins=twins,
        index=index,
        weights=result.weights,
        suggestion_json=suggestion_json,
        twin_json=twin_json,
        seconds={
            "parse_s": round(parsed - started, 3),
            "engine_s": round(matched - parsed, 3),
            "rows_s": round(done - matched, 3),
        },
    )


def prepare(job: MatchJob) -> tuple[SideIndex, RarityWeights]:
    """The remote side prepared for refreshes, with the weights a full computation over
    the same vectors would use (for a process that runs no computation itself)."""
    prefix = f"{job.base_url}/p/"
    local = _profiles(job.local_vectors, [prefix + p for p in _lines(job.pseudonyms)])
    remote = _profiles(job.remote_vectors, _lines(job.remote_actors))
    weights = rarity_weights([*local, *remote], job.codes, job.parents.__getitem__)
    return SideIndex.build(remote, weights), weights


def _lines(text: str) -> list[str]:
    return text.split("\n") if text else []


def _profiles(vectors: str, ids: Sequence[str]) -> list[InterestProfile]:
    parsed = json.loads(vectors)
    if len(parsed) != len(ids):
        raise ValueError("as many vectors as ids expected")
    return [stored_profile(vector, actor) for vector, actor in zip(parsed, ids, strict=True)]


def _rows(lists: RankedLists, local_ids: list[str], remote_ids: list[str], job: MatchJob) -> Rows:
    """Rows of the local residents' lists, sorted by resident id then rank (the order of
    the index the pages read, which keeps the inserts local)."""
    owner, other, units = lists.entries(local_ids, remote_ids)
    starts = np.searchsorted(owner, owner)
    ranks = (np.arange(owner.size) - starts).astype(np.int32)
    resident = job.resident_ids[owner]
    order = np.lexsort((ranks, resident))
    return Rows(
        resident_id=resident[order].astype(np.int64),
        remote_profile_id=job.remote_ids[other[order]].astype(np.int64),
        rank=ranks[order],
        # The same correctly rounded division as units_to_score.
        score=units[order] / SCORE_UNITS,
    )
