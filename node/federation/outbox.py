"""The transactional outbox: queue an activity for a peer in the caller's transaction.

Whatever causes an activity (a profile change, a contact request, a message)
writes it here in the same transaction as the change itself, so the two commit
together or not at all; the delivery worker sends it afterwards, retrying for
days. Nothing here talks to the network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from sqlalchemy import insert, select

from federation.vocabulary import KnownActivity
from node.models import OutboxActivity, Peer, utcnow
from node.runtime.db import UnitOfWork


@dataclass(frozen=True, slots=True)
class OutboxQueued:
    """Rows were queued: the delivery worker should look now, not at its next poll."""


# What may be queued: one of the activities this product builds (federation.vocabulary),
# or any other JSON object that carries an ``id`` and a ``type`` (checked when queued).
OutgoingActivity: TypeAlias = KnownActivity | Mapping[str, object]


class OutboxError(ValueError):
    """An activity that cannot be queued as given (a programming error, not bad input)."""


def _check(activity: OutgoingActivity) -> tuple[str, str]:
    activity_id = activity.get("id")
    kind = activity.get("type")
    if not isinstance(activity_id, str) or not activity_id:
        raise OutboxError("activity needs an 'id' (receivers deduplicate by it)")
    if not isinstance(kind, str) or not kind:
        raise OutboxError("activity needs a 'type'")
    if len(activity_id) > 500 or len(kind) > 32:
        raise OutboxError("activity id or type too long")
    return activity_id, kind


async def enqueue(
    uow: UnitOfWork,
    *,
    peer: Peer | int,
    activity: OutgoingActivity,
    sign_with: str | None = None,
) -> OutboxActivity:
    """Queue ``activity`` for ``peer``; it is sent once the caller's transaction commits.

    Rows to one peer are delivered in the order they were queued. ``sign_with`` (a
    key fingerprint) is for the announcement of a key rotation only: the row is signed
    with that retired key, which the peer already trusts, and goes before the peer's
    other open rows (see ``_outbox_claims``). Every other row is signed when it is
    sent, with the key the node runs with.
    """
    activity_id, kind = _check(activity)
    peer_id = peer if isinstance(peer, int) else peer.id
    row = OutboxActivity(
        peer_id=peer_id,
        activity_id=activity_id,
        activity_type=kind,
        payload=activity,
        state="pending",
        next_try_at=utcnow(),
        sign_with=sign_with,
    )
    uow.add(row)
    await uow.flush()
    uow.record(OutboxQueued())
    return row


async def enqueue_many(
    uow: UnitOfWork, items: Iterable[tuple[Peer | int, OutgoingActivity]]
) -> int:
    """Queue many ``(peer, activity)`` pairs in one round trip (a publication touching
    thousands of residents would otherwise pay one per row). Rows to one peer keep the
    given order. Returns how many were queued."""
    now = utcnow()
    rows = []
    for peer, activity in items:
        activity_id, kind = _check(activity)
        rows.append(
            {
                "peer_id": peer if isinstance(peer, int) else peer.id,
                "activity_id": activity_id,
                "activity_type": kind,
                "payload": activity,
                "state": "pending",
                "next_try_at": now,
            }
        )
    if rows:
        await uow.execute(insert(OutboxActivity), rows)
        uow.record(OutboxQueued())
    return len(rows)


async def enqueue_for_all_peers(
    uow: UnitOfWork,
    build: Callable[[Peer], OutgoingActivity | None],
    *,
    sign_with: str | None = None,
) -> Sequence[OutboxActivity]:
    """Queue ``build(peer)`` for every known peer; a None result skips that peer.

    Untrusted peers are included: their rows wait until the admin pins a key.
    """
    peers = (await uow.scalars(select(Peer).order_by(Peer.id))).all()
    rows = []
    for peer in peers:
        activity = build(peer)
        if activity is not None:
            rows.append(await enqueue(uow, peer=peer, activity=activity, sign_with=sign_with))
    return rows
