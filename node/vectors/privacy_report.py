"""What leaves this node for each peer, counted: the privacy report for city IT
(``zwilling privacy report``) and the admin area.

A peer holds the published vector of every resident with a current pseudonym towards
it; every peer gets the same content, under different pseudonyms, so the figures
differ between peers only while a publication is still reaching one of them (a peer
added later, a pseudonym row not written yet). The raw side is the coarse vector of
every resident who takes part, so "withheld" and "generalised" are measured against
what the resident gave.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from matching.privacy import PrivacyFigures, RareValue, privacy_figures
from matching.profile import InterestProfile
from node.models import Peer, Pseudonym, PublishedVector
from node.vectors._population import eligible
from node.vectors.stored import stored_profile

__all__ = ["PeerPrivacy", "PrivacyFigures", "PrivacyReport", "RareValue", "privacy_report"]


@dataclass(frozen=True, slots=True)
class PeerPrivacy:
    """The figures of what one peer holds."""

    peer: str
    """The peer's actor URL."""
    figures: PrivacyFigures


@dataclass(frozen=True, slots=True)
class PrivacyReport:
    """One report: the node's k, how many residents take part, and each peer's figures
    (in the order the peers were added)."""

    k: int
    residents: int
    peers: tuple[PeerPrivacy, ...]


async def privacy_report(session: AsyncSession, k: int) -> PrivacyReport:
    """Count, per peer, what it holds of this node's residents. Reads only."""
    raw = {str(resident): profile for resident, profile in (await eligible(session)).items()}
    peers = list((await session.scalars(select(Peer).order_by(Peer.id))).all())
    rows = (
        await session.execute(
            select(Pseudonym.peer_id, Pseudonym.resident_id, PublishedVector.vector)
            .join(PublishedVector, PublishedVector.resident_id == Pseudonym.resident_id)
            .where(Pseudonym.withdrawn_at.is_(None))
        )
    ).all()
    held: dict[int, dict[str, InterestProfile]] = {peer.id: {} for peer in peers}
    for row in rows:
        if row.peer_id in held:
            key = str(row.resident_id)
            held[row.peer_id][key] = stored_profile(row.vector, key)
    return PrivacyReport(
        k=k,
        residents=len(raw),
        peers=tuple(
            PeerPrivacy(peer.actor_url, privacy_figures(raw, held[peer.id], k)) for peer in peers
        ),
    )
