"""Matching results for this node's residents, per peer: the top suggestions and the
twin(s). Recomputed from the shared vectors; rows vanish with the remote profile.

A full computation replaces some 1.8 million rows of a city. Rather than deleting the
old set and inserting the new one in one long transaction (holding SQLite's write lock
for the whole of it, and leaving PostgreSQL a million dead rows to clean up in the
readers' way), each computation writes a new *generation* of rows beside the current
one and then makes it current with a one-row update (``MatchGeneration``); the old
generation is deleted afterwards in batches. Readers select the current generation
only (:meth:`Suggestion.current`, :meth:`Twin.current`), so they never see a
half-written set, and a computation that dies half-way leaves the previous set in
place (its rows are dropped by the next one).

The results tables have no foreign keys: checking three keys for each of the rows a
computation writes took three times as long as writing them. The writers check what
they write (:mod:`node.matches._store`, :mod:`node.matches._refresh`), and triggers of
migration 0008 delete the results of a resident, remote profile or peer deleted later
(as ``ON DELETE CASCADE`` did).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Float, ForeignKey, Index, func, select
from sqlalchemy.orm import Mapped, mapped_column

from node.models.base import Base, utcnow


class MatchGeneration(Base):
    """Which generation of a peer's results readers see, and the last one handed out.

    ``current`` 0 with no row at all: results written before generations existed, or
    single-resident refreshes before the first full computation."""

    __tablename__ = "match_generations"

    peer_id: Mapped[int] = mapped_column(
        ForeignKey("peers.id", ondelete="CASCADE"), primary_key=True
    )
    current: Mapped[int] = mapped_column(default=0)
    last: Mapped[int] = mapped_column(default=0)
    computed_at: Mapped[datetime | None]


def _current_generation(peer_id: Mapped[int]) -> ColumnElement[int]:
    shown = (
        select(MatchGeneration.current)
        .where(MatchGeneration.peer_id == peer_id)
        .correlate_except(MatchGeneration)
        .scalar_subquery()
    )
    return func.coalesce(shown, 0)


class Suggestion(Base):
    __tablename__ = "suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int]
    peer_id: Mapped[int]
    remote_profile_id: Mapped[int] = mapped_column(index=True)
    rank: Mapped[int]
    score: Mapped[float] = mapped_column(Float(precision=53))
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    generation: Mapped[int] = mapped_column(default=0, server_default="0")

    @classmethod
    def current(cls) -> ColumnElement[bool]:
        """Only rows of the generation readers are shown (see the module docstring)."""
        return cls.generation == _current_generation(cls.peer_id)


class Twin(Base):
    """One twin pair; a resident of the smaller city may have several twins."""

    __tablename__ = "twins"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int]
    peer_id: Mapped[int]
    remote_profile_id: Mapped[int] = mapped_column(index=True)
    score: Mapped[float] = mapped_column(Float(precision=53))
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    generation: Mapped[int] = mapped_column(default=0, server_default="0")

    @classmethod
    def current(cls) -> ColumnElement[bool]:
        """Only rows of the generation readers are shown (see the module docstring)."""
        return cls.generation == _current_generation(cls.peer_id)


# A resident's rows are asked for by resident, peer and the shown generation: with the
# generation in this index it matches more of the question than the one by peer and
# generation, so SQLite (without statistics) never walks a whole generation to find
# one resident's rows (migration 0011).
Index(
    "ix_suggestions_resident_peer_generation",
    Suggestion.resident_id,
    Suggestion.peer_id,
    Suggestion.generation,
    Suggestion.rank,
)
Index("ix_suggestions_peer_generation", Suggestion.peer_id, Suggestion.generation)
Index("ix_twins_resident_peer_generation", Twin.resident_id, Twin.peer_id, Twin.generation)
Index("ix_twins_peer_generation", Twin.peer_id, Twin.generation)
