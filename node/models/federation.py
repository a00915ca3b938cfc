"""The node's side of federation: peers with their pinned keys and health, the durable
outbox (transactional: written with the change that caused it) and the inbox log.

Row states. Outbox: ``pending`` (due at ``next_try_at``), ``sending`` (claimed by a
worker until ``lease_until``; a crashed worker's rows become claimable again when
the lease runs out), ``delivered``, ``failed`` (refused with a 4xx, or retried for
longer than ``delivery_max_age_hours``; kept for admins). Inbox: ``pending``
(stored, not yet applied; retried at ``next_try_at``), ``applied``, ``failed``.
Bodies are kept only for the ``[retention]`` periods (``node.retention``).
Peer: ``unknown`` (actor not fetched yet), ``untrusted`` (no pinned key matches what
it publishes), ``reachable``, ``failing`` (since ``failing_since``; deliveries
resume at ``next_attempt_at``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from node.models.base import Base, utcnow


class Peer(Base):
    __tablename__ = "peers"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_url: Mapped[str] = mapped_column(String(500), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    inbox_url: Mapped[str | None] = mapped_column(String(500))
    origin: Mapped[str] = mapped_column(String(300), index=True)
    source: Mapped[str] = mapped_column(String(16), default="config")
    state: Mapped[str] = mapped_column(String(16), default="unknown")
    config_fingerprints: Mapped[list[str]] = mapped_column(default=list)
    actor_fetched_at: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    failing_since: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_sync_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    keys: Mapped[list[PeerKey]] = relationship(
        back_populates="peer", cascade="all, delete-orphan", passive_deletes=True
    )


class PeerKey(Base):
    """A peer key this node trusts: pinned by fingerprint, possibly retiring.

    ``key_id`` is not unique: older nodes publish a rotated key under the same id as
    its predecessor (``#main-key``), and both are accepted until the old one
    ``retires_at``; newer ones give every key an id of its own (``#main-key-<suffix>``).
    A signature is matched by the key that verifies it, under any id of the same
    actor (``node.peers.registry.keys_for``).
    ``pinned_by`` says how it became trusted: ``config`` (fingerprint in the file),
    ``admin`` (``zwilling peer add``) or ``rotation`` (an actor ``Update`` signed by a
    key pinned before)."""

    __tablename__ = "peer_keys"
    __table_args__ = (UniqueConstraint("peer_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    peer_id: Mapped[int] = mapped_column(ForeignKey("peers.id", ondelete="CASCADE"), index=True)
    key_id: Mapped[str] = mapped_column(String(500), index=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    public_key_pem: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(80))
    pinned_by: Mapped[str] = mapped_column(String(16), default="config")
    pinned_at: Mapped[datetime] = mapped_column(default=utcnow)
    retires_at: Mapped[datetime | None]

    peer: Mapped[Peer] = relationship(back_populates="keys")


class OutboxActivity(Base):
    """One activity for one peer, from creation until delivered, failed or discarded."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    peer_id: Mapped[int] = mapped_column(ForeignKey("peers.id", ondelete="CASCADE"))
    activity_id: Mapped[str] = mapped_column(String(500))
    activity_type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(16), default="pending")
    tries: Mapped[int] = mapped_column(default=0)
    next_try_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    # The fingerprint of a retired key that must sign this row: set only on the actor
    # Update a key rotation queues, which goes before the peer's other open rows.
    sign_with: Mapped[str | None] = mapped_column(String(80))
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    # When the body was dropped (payload then {}): retention, or an erased account.
    purged_at: Mapped[datetime | None]


Index("ix_outbox_due", OutboxActivity.state, OutboxActivity.next_try_at)
Index("ix_outbox_peer_state", OutboxActivity.peer_id, OutboxActivity.state)
Index("ix_outbox_unpurged", OutboxActivity.purged_at, OutboxActivity.state)


class InboxActivity(Base):
    """Every accepted activity, stored before the 202 so that nothing acknowledged is
    ever lost; ``activity_id`` is unique, which makes redelivery idempotent."""

    __tablename__ = "inbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[str] = mapped_column(String(500), unique=True)
    peer_id: Mapped[int | None] = mapped_column(ForeignKey("peers.id", ondelete="SET NULL"))
    activity_type: Mapped[str] = mapped_column(String(32))
    object_type: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(500))
    key_fingerprint: Mapped[str | None] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(16), default="pending")
    tries: Mapped[int] = mapped_column(default=0)
    next_try_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    applied_at: Mapped[datetime | None]
    # When the body was dropped (payload then {}; the id stays for de-duplication).
    purged_at: Mapped[datetime | None]


Index("ix_inbox_pending", InboxActivity.state, InboxActivity.id)
Index("ix_inbox_unpurged", InboxActivity.purged_at, InboxActivity.state)
