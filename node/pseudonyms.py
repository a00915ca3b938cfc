"""Pseudonyms: the only name a peer ever learns for a resident before consent.

A pseudonym is HMAC-SHA-256 over (resident id, pseudonym epoch, peer actor URL) keyed
with the node secret. Keyed, so nobody without the secret can recompute or enumerate
them; per peer, so two peers comparing notes cannot join their copies by identifier
(the content is the same coarse profile, so joining by content stays possible and is
what the cities' agreement forbids); per epoch, so a resident who resets gets a fresh
one that no identifier links to the old.

Every pseudonym ever issued keeps its row. Withdrawing a pseudonym's *profile* (pause,
reset) leaves its actor in place for the contacts made under it; *retiring*
the actor (account deleted) makes it answer 410 and ends those contacts at the peer.

Each pseudonym also numbers what is sent under it (``Update`` and ``Delete``): the
receiver applies a change only if its number is higher than the last it applied, so
the order of delivery does not matter. The numbers start at a keyed value of the
pseudonym, so the numbers two peers receive for one resident have nothing in common,
and they order nothing across residents.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from node.models import Peer, Pseudonym, utcnow

PATH_PREFIX = "/p/"
SEQUENCE_START_BITS = 40  # leaves room below 2**53, the largest integer JSON keeps exact


def derive(secret: bytes, resident_id: int, epoch: int, peer_actor_url: str) -> str:
    """The pseudonym itself (64 hex digits). Newlines cannot occur in the integers or in
    a validated URL, so the message encoding is unambiguous."""
    message = f"{resident_id}\n{epoch}\n{peer_actor_url}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def sequence_start(secret: bytes, pseudonym: str) -> int:
    """The number before the first one sent under ``pseudonym`` (keyed, so that it tells
    a peer nothing, and the same after a restart)."""
    mac = hmac.new(secret, f"sequence\n{pseudonym}".encode(), hashlib.sha256).digest()
    return int.from_bytes(mac[:8], "big") >> (64 - SEQUENCE_START_BITS)


def current_sequence(secret: bytes, row: Pseudonym) -> int:
    """The number of the last change sent under ``row`` (its start if none was)."""
    return row.sequence if row.sequence is not None else sequence_start(secret, row.pseudonym)


def next_sequence(secret: bytes, row: Pseudonym) -> int:
    """Take the next number for a change sent under ``row``."""
    row.sequence = current_sequence(secret, row) + 1
    return row.sequence


def actor_url(base_url: str, pseudonym: str) -> str:
    return f"{base_url}{PATH_PREFIX}{pseudonym}"


def pseudonym_from_url(base_url: str, url: str) -> str | None:
    """The pseudonym part of one of this node's pseudonym actor URLs, else None."""
    prefix = base_url + PATH_PREFIX
    if not url.startswith(prefix):
        return None
    value = url.removeprefix(prefix)
    return value if len(value) == 64 and all(c in "0123456789abcdef" for c in value) else None


@dataclass(frozen=True, slots=True)
class PseudonymRecord:
    pseudonym: str
    resident_id: int | None
    peer_id: int
    withdrawn: bool
    retired: bool


async def ensure_for_peer(
    session: AsyncSession, secret: bytes, peer: Peer, residents: Iterable[tuple[int, int]]
) -> None:
    """Create the rows a peer's pseudonyms need for ``(resident id, epoch)`` pairs, so that
    serving and resolving them is a plain lookup (used for a peer seen for the first time)."""
    wanted = {derive(secret, rid, epoch, peer.actor_url): (rid, epoch) for rid, epoch in residents}
    if not wanted:
        return
    existing = set(
        (
            await session.scalars(select(Pseudonym.pseudonym).where(Pseudonym.peer_id == peer.id))
        ).all()
    )
    missing = [
        {"pseudonym": value, "resident_id": rid, "peer_id": peer.id, "epoch": epoch}
        for value, (rid, epoch) in wanted.items()
        if value not in existing
    ]
    if missing:
        await session.execute(insert(Pseudonym), missing)


async def withdraw(
    session: AsyncSession, resident_id: int, *, when: datetime | None = None
) -> list[Pseudonym]:
    """Mark the profile withdrawn under every pseudonym of the resident that still
    publishes it; return them (each needs a ``Delete`` of the profile). The actors stay."""
    rows = list(
        (
            await session.scalars(
                select(Pseudonym).where(
                    Pseudonym.resident_id == resident_id, Pseudonym.withdrawn_at.is_(None)
                )
            )
        ).all()
    )
    stamp = when or utcnow()
    if rows:
        await session.execute(
            update(Pseudonym)
            .where(Pseudonym.id.in_([row.id for row in rows]))
            .values(withdrawn_at=stamp)
        )
    return rows


async def lookup(session: AsyncSession, pseudonym: str) -> PseudonymRecord | None:
    """Resolve a pseudonym of this node (as found in a ``/p/…`` URL)."""
    row = await session.scalar(select(Pseudonym).where(Pseudonym.pseudonym == pseudonym))
    if row is None:
        return None
    return PseudonymRecord(
        pseudonym=row.pseudonym,
        resident_id=row.resident_id,
        peer_id=row.peer_id,
        withdrawn=row.withdrawn_at is not None,
        retired=row.retired_at is not None,
    )


async def retire(
    session: AsyncSession, resident_id: int, *, when: datetime | None = None
) -> list[Pseudonym]:
    """Retire every pseudonym actor of the resident not retired yet, of every epoch
    (older ones may still carry contacts); return them (each needs a ``Delete`` of the
    actor)."""
    rows = list(
        (
            await session.scalars(
                select(Pseudonym).where(
                    Pseudonym.resident_id == resident_id, Pseudonym.retired_at.is_(None)
                )
            )
        ).all()
    )
    stamp = when or utcnow()
    for row in rows:
        row.retired_at = stamp
        if row.withdrawn_at is None:
            row.withdrawn_at = stamp
    await session.flush()
    return rows
