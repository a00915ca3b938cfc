"""Partner cities as a resident may see them: by their city's name, and whether the
connection to them works right now.

The name is the one the partner's own actor document gives (its ``name`` is the
city, stored on the peer row when the actor is fetched); before that first fetch it
is not known, and the pages say "a partner city" rather than show an address.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from node.models import Peer, utcnow
from node.peers import registry

Connection = Literal["connected", "not_connected", "unreachable"]
"""``not_connected``: no key of the partner is pinned yet, so nothing is exchanged
with it at all; ``unreachable``: trusted, but the last deliveries to it or the last
fetch of its actor failed, so what goes there waits and is retried."""

FETCH_FAILED = "actor fetch:"  # how node.peers.refresh records a failed fetch


@dataclass(frozen=True, slots=True)
class PartnerCity:
    peer_id: int
    name: str | None
    connection: Connection


def connection(peer: Peer, trusted: bool) -> Connection:
    if not trusted:
        return "not_connected"
    if peer.state == "failing" or (peer.last_error or "").startswith(FETCH_FAILED):
        return "unreachable"
    return "connected"


async def partner_cities(
    session: AsyncSession, now: datetime | None = None
) -> Sequence[PartnerCity]:
    """Every partner city, in the order of their names (unnamed ones last)."""
    found = [
        PartnerCity(peer.id, peer.name or None, connection(peer, trusted))
        for peer, trusted in await registry.peers_and_trust(session, now or utcnow())
    ]
    return sorted(found, key=lambda city: (city.name is None, city.name or "", city.peer_id))
