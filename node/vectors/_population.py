"""The published population: which residents take part, their raw vectors, and the
generalisation index over them that this process keeps between publications.

Only the code columns of a profile are ever read here (never the about-text, name or
e-mail address), and they are encoded into exactly the fields of the shared
``InterestProfile`` (docs/protocol.md, section 3), nothing more.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from matching.languages import coarse_languages
from matching.profile import KINDS, InterestProfile, Kind
from matching.wire import MAX_INTERESTS
from node.models import Profile, PublicationState, Resident
from node.vectors._generalisation import Generaliser

_STATE_ROW = 1
_CHUNK = 500
_ADVISORY_LOCK = 0x5A57_0001  # one publication at a time per database (PostgreSQL)


def encode(resident_id: int, kind: str, profile: Any) -> InterestProfile:
    """The raw (not yet generalised) vector of one resident. ``profile`` is anything
    with the profile's code columns.

    Language levels are coarsened here (CEFR → ``native``/``fluent``/``basic``): the
    node keeps the CEFR level the resident gave, the vector carries only what the
    gates and the score use."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    shaped: Kind = kind
    return InterestProfile(
        id=str(resident_id),
        kind=shaped,
        interests=tuple(sorted(set(profile.interests)))[:MAX_INTERESTS],
        occupation=(profile.occupation or None) and profile.occupation[:2],
        languages=coarse_languages(profile.languages),
        learning=tuple(sorted(set(profile.learning))),
        age_band=profile.age_band if kind in ("person", "school_class") else None,
        children_age_bands=tuple(profile.children_age_bands) if kind == "family" else (),
    )


def digest(vector: dict[str, Any]) -> str:
    """A fingerprint of a stored vector, so that a full comparison need not decode every
    stored vector."""
    canonical = json.dumps(vector, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def chunks(values: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


async def eligible(
    session: AsyncSession, only: Sequence[int] | None = None
) -> dict[int, InterestProfile]:
    """Raw vectors of residents who take part (active, profile completed, not paused):
    all of them, or those of ``only``."""
    statement = _eligible()
    if only is None:
        rows = (await session.execute(statement)).all()
    else:
        rows = []
        for chunk in chunks(list(only)):
            rows += (await session.execute(statement.where(Resident.id.in_(chunk)))).all()
    return {row.id: encode(row.id, row.kind, row) for row in rows}


async def eligible_page(
    session: AsyncSession, after: int, limit: int
) -> dict[int, InterestProfile]:
    """Raw vectors of up to ``limit`` taking part with an id above ``after``: a whole
    population read in steps that each hold the event loop only briefly."""
    statement = _eligible().where(Resident.id > after).order_by(Resident.id).limit(limit)
    rows = (await session.execute(statement)).all()
    return {row.id: encode(row.id, row.kind, row) for row in rows}


def _eligible() -> Select[*tuple[Any, ...]]:
    return (
        select(
            Resident.id,
            Resident.kind,
            Profile.interests,
            Profile.occupation,
            Profile.languages,
            Profile.learning,
            Profile.age_band,
            Profile.children_age_bands,
        )
        .join(Profile, Profile.resident_id == Resident.id)
        .where(
            Resident.status == "active",
            Profile.completed.is_(True),
            Profile.paused.is_(False),
        )
    )


async def serialise(session: AsyncSession) -> None:
    """Publications (and anything else writing pseudonym or vector rows of this node)
    must not interleave, or the index and the rows would disagree and two writers could
    insert the same row. On PostgreSQL the second waits here for the first to commit;
    SQLite already serialises writers at BEGIN."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})


async def generation(session: AsyncSession) -> int:
    value = await session.scalar(
        select(PublicationState.generation).where(PublicationState.id == _STATE_ROW)
    )
    if value is None:
        session.add(PublicationState(id=_STATE_ROW, generation=0))
        await session.flush()
        return 0
    return value


async def advance(session: AsyncSession, current: int) -> int:
    await session.execute(
        update(PublicationState)
        .where(PublicationState.id == _STATE_ROW)
        .values(generation=current + 1)
    )
    return current + 1


@dataclass
class PopulationCache:
    """This process's generalisation index and the publication it reflects."""

    index: Generaliser | None = None
    generation: int | None = None

    def current(self, at: int) -> Generaliser | None:
        return self.index if self.index is not None and self.generation == at else None

    def forget(self) -> None:
        self.index = None
        self.generation = None
