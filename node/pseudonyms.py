"""Pseudonyms: the only name a peer ever learns for a resident before consent.

A pseudonym is HMAC-SHA-256 over (resident id, pseudonym epoch, peer actor URL) keyed
with the node secret. Keyed, so nobody without the secret can recompute or enumerate
them; per peer, so two peers comparing notes cannot join their data; per epoch, so a
resident who resets gets a fresh one that nothing links to the old.

Every pseudonym ever issued keeps its row: the pseudonym actor answers 410 for a
withdrawn one, and contacts can still be traced back while it is current.
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


def derive(secret: bytes, resident_id: int, epoch: int, peer_actor_url: str) -> str:
    """The pseudonym itself (64 hex digits). Newlines cannot occur in the integers or in
    a validated URL, so the message encoding is unambiguous."""
    message = f"{resident_id}\n{epoch}\n{peer_actor_url}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


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
    """Mark every current pseudonym of the resident withdrawn; return them (for Deletes)."""
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
    )
