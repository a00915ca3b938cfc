"""Matching results for this node's residents, per peer: the top suggestions and the
twin(s). Recomputed from the shared vectors; rows vanish with the remote profile."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from node.models.base import Base, utcnow


class Suggestion(Base):
    __tablename__ = "suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    peer_id: Mapped[int] = mapped_column(ForeignKey("peers.id", ondelete="CASCADE"), index=True)
    remote_profile_id: Mapped[int] = mapped_column(
        ForeignKey("remote_profiles.id", ondelete="CASCADE"), index=True
    )
    rank: Mapped[int]
    score: Mapped[float] = mapped_column(Float(precision=53))
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Twin(Base):
    """One twin pair; a resident of the smaller city may have several twins."""

    __tablename__ = "twins"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    peer_id: Mapped[int] = mapped_column(ForeignKey("peers.id", ondelete="CASCADE"), index=True)
    remote_profile_id: Mapped[int] = mapped_column(
        ForeignKey("remote_profiles.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[float] = mapped_column(Float(precision=53))
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


Index("ix_suggestions_resident_peer", Suggestion.resident_id, Suggestion.peer_id, Suggestion.rank)
Index("ix_twins_resident_peer", Twin.resident_id, Twin.peer_id)
