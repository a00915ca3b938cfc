"""Reading both sides of a peer for a computation, as stored and without decoding.

The vectors are read as the JSON text the database holds (``CAST(... AS TEXT)``), in
partitions, so the event loop neither decodes 230,000 JSON documents nor holds on for
the whole read: decoding and building profiles happen where the matching runs
(:mod:`node.matches._job`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from sqlalchemy import Text, cast, select
from sqlalchemy.ext.asyncio import AsyncSession

from matching.settings import MatchSettings
from matching.taxonomy import Taxonomy
from node.matches._job import MatchJob
from node.models import Pseudonym, PublishedVector, RemoteProfile, Resident

PARTITION = 5_000
"""Rows per fetch: a few milliseconds of the loop each."""


def local_vectors(peer_id: int, resident_ids: Sequence[int] | None = None) -> Any:
    """Pseudonym, resident and published vector of local residents towards a peer."""
    return _local(peer_id, PublishedVector.vector, resident_ids)


def _local(peer_id: int, vector: Any, resident_ids: Sequence[int] | None = None) -> Any:
    statement = (
        select(Pseudonym.pseudonym, Pseudonym.resident_id, vector)
        .join(PublishedVector, PublishedVector.resident_id == Pseudonym.resident_id)
        .join(Resident, Resident.id == Pseudonym.resident_id)
        .where(
            Pseudonym.peer_id == peer_id,
            Pseudonym.withdrawn_at.is_(None),
            Pseudonym.epoch == Resident.pseudonym_epoch,
        )
    )
    if resident_ids is not None:
        statement = statement.where(Pseudonym.resident_id.in_(resident_ids))
    return statement.order_by(Pseudonym.pseudonym)


@dataclass(frozen=True, slots=True)
class StoredSides:
    pseudonyms: list[str]
    resident_ids: list[int]
    local_vectors: list[str]
    remote_actors: list[str]
    remote_ids: list[int]
    remote_vectors: list[str]

    @property
    def size(self) -> int:
        return len(self.pseudonyms) + len(self.remote_actors)

    def remote_map(self) -> dict[str, int]:
        """Peer actor URL -> ``remote_profiles.id``."""
        return dict(zip(self.remote_actors, self.remote_ids, strict=True))

    def job(
        self, base_url: str, taxonomy: Taxonomy, settings: MatchSettings, json_batch: int = 0
    ) -> MatchJob:
        return MatchJob(
            base_url=base_url,
            pseudonyms="\n".join(self.pseudonyms),
            resident_ids=np.array(self.resident_ids, dtype=np.int64),
            local_vectors="[" + ",".join(self.local_vectors) + "]",
            remote_actors="\n".join(self.remote_actors),
            remote_ids=np.array(self.remote_ids, dtype=np.int64),
            remote_vectors="[" + ",".join(self.remote_vectors) + "]",
            codes=taxonomy.codes,
            parents={code: taxonomy.parent(code) for code in taxonomy.codes},
            # Plain dicts travel to another process (a mappingproxy cannot be pickled).
            settings=replace(
                settings, kind_gates={k: frozenset(v) for k, v in settings.kind_gates.items()}
            ),
            json_batch=json_batch,
        )


async def load_stored(session: AsyncSession, peer_id: int) -> StoredSides:
    """Both sides of ``peer_id`` in one snapshot (``session`` is one read unit)."""
    local: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
    await _collect(session, _local(peer_id, cast(PublishedVector.vector, Text)), local)
    remote: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
    await _collect(
        session,
        select(RemoteProfile.actor_url, RemoteProfile.id, cast(RemoteProfile.vector, Text))
        .where(RemoteProfile.peer_id == peer_id)
        .order_by(RemoteProfile.actor_url),
        remote,
    )
    return StoredSides(*local, *remote)


async def _collect(
    session: AsyncSession, statement: Any, into: tuple[list[Any], list[Any], list[Any]]
) -> None:
    result = await session.stream(statement.execution_options(yield_per=PARTITION))
    async for partition in result.partitions():
        for column, values in zip(into, zip(*partition, strict=True), strict=True):
            column.extend(values)
