"""The full set of this node's published vectors as one peer may read it (``GET /vectors``):
a paged ``OrderedCollection``, every item under that peer's pseudonym, ordered by
pseudonym so that the cursor (the last pseudonym of the previous page) stays stable
while residents come and go. Each item carries the pseudonym's current ``sequence`` (the
number of the last ``Update`` sent under it, or the number before the first), so that
the receiver orders the page against inbox deliveries.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from node import pseudonyms
from node.models import Peer, Pseudonym, PublishedVector, Resident
from node.vectors import _population as vector_population
from node.vectors.activities import Publisher, wire_profile

PAGE_SIZE = 500
START = "start"


class BadCursor(ValueError):
    """A ``page`` value that is neither ``start`` nor a pseudonym (400)."""


def _current(peer: Peer) -> Any:
    return (
        select(
            Pseudonym.pseudonym,
            Pseudonym.sequence,
            PublishedVector.vector,
            PublishedVector.updated,
        )
        .join(PublishedVector, PublishedVector.resident_id == Pseudonym.resident_id)
        .join(Resident, Resident.id == Pseudonym.resident_id)
        .where(
            Pseudonym.peer_id == peer.id,
            Pseudonym.withdrawn_at.is_(None),
            Pseudonym.epoch == Resident.pseudonym_epoch,
        )
    )


async def prepare(session: AsyncSession, publisher: Publisher, peer: Peer) -> None:
    """Create the pseudonym rows a peer's full set needs (a peer added after the
    residents published has none yet)."""
    await vector_population.serialise(session)
    rows = await session.execute(
        select(Resident.id, Resident.pseudonym_epoch).join(
            PublishedVector, PublishedVector.resident_id == Resident.id
        )
    )
    await pseudonyms.ensure_for_peer(session, publisher.secret, peer, [(r, e) for r, e in rows])


def collection_url(publisher: Publisher) -> str:
    return f"{publisher.base_url}/vectors"


def page_url(publisher: Publisher, cursor: str) -> str:
    return f"{collection_url(publisher)}?page={quote(cursor)}"


async def collection(session: AsyncSession, publisher: Publisher, peer: Peer) -> dict[str, Any]:
    total = await session.scalar(select(func.count()).select_from(_current(peer).subquery()))
    return publisher.sign(
        {
            "@context": publisher.context,
            "id": collection_url(publisher),
            "type": "OrderedCollection",
            "totalItems": int(total or 0),
            "first": page_url(publisher, START),
        }
    )


def check_cursor(cursor: str) -> str:
    if cursor == START:
        return ""
    if len(cursor) != 64 or any(c not in "0123456789abcdef" for c in cursor):
        raise BadCursor(f"page must be {START!r} or a pseudonym from a previous page")
    return cursor


async def page(
    session: AsyncSession, publisher: Publisher, peer: Peer, cursor: str, size: int | None = None
) -> dict[str, Any]:
    after = check_cursor(cursor)
    size = size or PAGE_SIZE
    rows = (
        await session.execute(
            _current(peer)
            .where(Pseudonym.pseudonym > after)
            .order_by(Pseudonym.pseudonym)
            .limit(size + 1)
        )
    ).all()
    more = len(rows) > size
    rows = rows[:size]
    items = [
        wire_profile(
            vector,
            publisher.pseudonym_url(value),
            updated,
            sequence
            if sequence is not None
            else pseudonyms.sequence_start(publisher.secret, value),
        )
        for value, sequence, vector, updated in rows
    ]
    document: dict[str, Any] = {
        "@context": publisher.context,
        "id": page_url(publisher, cursor),
        "type": "OrderedCollectionPage",
        "partOf": collection_url(publisher),
        "orderedItems": items,
    }
    if more:
        document["next"] = page_url(publisher, rows[-1][0])
    return publisher.sign(document)
