"""What the running node keeps between two computations of matches.

Per peer the prepared remote side and the rarity weights of the last full
computation, so that a resident's edit refreshes their suggestions at once; and the
matching worker's to-do list (peers whose vectors changed, syncs asked for).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from matching.refresh import SideIndex
from matching.score import RarityWeights
from matching.settings import MatchSettings
from matching.taxonomy import Taxonomy, load_taxonomy
from node.runtime.config import Config

PROCESS_FROM = 20_000
"""Profiles on both sides together from which a computation runs in a process of its
own rather than a worker thread (:mod:`node.matches._offload`)."""


def match_settings(config: Config) -> MatchSettings:
    gates: dict[str, frozenset[str]] = {
        kind: frozenset(fits) for kind, fits in config.matching.kind_gates.items()
    }
    return MatchSettings(
        kind_gates=gates,
        top_k=config.matching.top_k,
        exposure_factor=config.matching.exposure_factor,
    )


@dataclass
class PeerIndex:
    """The prepared remote side of one peer and the weights of the last computation."""

    index: SideIndex
    weights: RarityWeights
    remote_ids: Mapping[str, int]
    computed_at: datetime


@dataclass
class MatchingState:
    """What the running node keeps between computations, and the worker's inbox."""

    settings: MatchSettings
    taxonomy: Taxonomy
    base_url: str
    max_index_age: float
    peers: dict[int, PeerIndex] = field(default_factory=dict)
    dirty: set[int] = field(default_factory=set)
    sync_requested: set[int | None] = field(default_factory=set)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    process_from: int = PROCESS_FROM
    preparing: dict[int, asyncio.Lock] = field(default_factory=dict)
    """Per peer, held while a side is prepared outside a computation: requests arriving
    meanwhile wait for that one instead of each preparing their own."""

    def poke(self, peer_id: int | None = None) -> None:
        """Ask for a (debounced) recomputation for one peer, or all with None."""
        self.dirty.add(peer_id if peer_id is not None else -1)
        self.wake.set()

    def request_sync(self, peer_id: int | None = None) -> None:
        """Ask the worker to pull a peer's full set now (None: every peer)."""
        self.sync_requested.add(peer_id)
        self.wake.set()


def new_state(config: Config) -> MatchingState:
    return MatchingState(
        settings=match_settings(config),
        taxonomy=load_taxonomy(),
        base_url=config.node.base_url,
        max_index_age=config.matching.recompute_interval_seconds,
    )
