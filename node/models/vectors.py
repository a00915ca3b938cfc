"""The shared interest vectors on this node: what it published about its own residents
(under which pseudonym towards which peer) and what it holds of each peer's residents.

Only the coarse codes of the shared ``InterestProfile`` are stored here (its fields are
listed in docs/protocol.md, section 3); names, e-mail addresses and free text stay in
the residents tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from node.models.base import Base, utcnow


class Pseudonym(Base):
    """A resident's name towards one peer. Kept for good (``resident_id`` cleared on
    account deletion) so that the pseudonym actor answers 410, not 404, once retired,
    and can never be issued to someone else.

    ``withdrawn_at``: the profile is no longer published under it (matching paused,
    suspended, or superseded by a reset); the actor still answers for the contacts made
    under it. ``retired_at``: the actor itself is gone (the account was deleted).
    ``sequence``: the last sequence number sent for it (None: nothing sent yet).
    """

    __tablename__ = "pseudonyms"
    __table_args__ = (UniqueConstraint("resident_id", "peer_id", "epoch"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64), unique=True)
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), index=True
    )
    peer_id: Mapped[int] = mapped_column(ForeignKey("peers.id", ondelete="CASCADE"), index=True)
    epoch: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]
    sequence: Mapped[int | None] = mapped_column(BigInteger)


class PublishedVector(Base):
    """The generalised vector of one resident exactly as peers were told it (without the
    per-peer ``id``). Matching reads the local side from here, never from the profile,
    so that both nodes score the very same vectors."""

    __tablename__ = "published_vectors"

    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True
    )
    vector: Mapped[dict[str, Any]]
    digest: Mapped[str] = mapped_column(String(64))
    updated: Mapped[datetime]
    published_at: Mapped[datetime] = mapped_column(default=utcnow)


class PublicationState(Base):
    """One row: a counter every publication raises. A process keeps its generalisation
    index in memory only while the counter says nobody else published since."""

    __tablename__ = "publication_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    generation: Mapped[int] = mapped_column(default=0)


def _vector_kind(context: DefaultExecutionContext) -> str:
    """A new row's ``kind``: the one its vector states, so that no insert can disagree."""
    vector = context.get_current_parameters()["vector"]  # type: ignore[no-untyped-call]
    return str(vector["kind"])


class RemoteProfile(Base):
    """A peer resident's vector as received (validated, unknown codes already dropped).
    ``sequence`` is the peer's number for this version: only a higher one replaces it.

    ``kind`` repeats the vector's ``kind`` as a plain column (migration 0012): the
    dashboard counts a city's partner profiles of one kind on every visit, and reading
    it out of each row's JSON meant reading every row. Every write of ``vector`` writes
    it too (node.peer_vectors.store, node.peer_vectors.reconcile); an insert that leaves
    it out takes the vector's."""

    __tablename__ = "remote_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    peer_id: Mapped[int] = mapped_column(ForeignKey("peers.id", ondelete="CASCADE"), index=True)
    actor_url: Mapped[str] = mapped_column(String(500), unique=True)
    vector: Mapped[dict[str, Any]]
    kind: Mapped[str] = mapped_column(String(16), default=_vector_kind)
    updated: Mapped[datetime]
    sequence: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    dropped_codes: Mapped[int] = mapped_column(default=0)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Tombstone(Base):
    """A withdrawn peer profile: an ``Update`` whose sequence is not higher than
    ``sequence`` (sent before the withdrawal, arriving late) must not bring it back.
    ``actor_deleted``: the pseudonym actor itself was deleted (the account is gone), and
    nothing under it may come back at all."""

    __tablename__ = "tombstones"

    actor_url: Mapped[str] = mapped_column(String(500), primary_key=True)
    peer_id: Mapped[int] = mapped_column(ForeignKey("peers.id", ondelete="CASCADE"), index=True)
    deleted: Mapped[datetime]
    sequence: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    actor_deleted: Mapped[bool] = mapped_column(default=False, server_default=false())
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


Index("ix_remote_profiles_kind_peer", RemoteProfile.kind, RemoteProfile.peer_id)
Index("ix_pseudonyms_peer_current", Pseudonym.peer_id, Pseudonym.withdrawn_at, Pseudonym.pseudonym)
