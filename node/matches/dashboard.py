"""What a resident's start page can honestly say about where things stand.

The twin search depends on things the resident cannot see: whether partner cities
are configured, whether their data has arrived, whether matching has run. The
dashboard states each of them plainly instead of showing an empty list that looks
like "nobody matches you".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.models import Peer, Profile, RemoteProfile, Resident, Suggestion, Twin


@dataclass(frozen=True, slots=True)
class DashboardState:
    profile_complete: bool
    paused: bool
    peers: int
    peer_names: tuple[str, ...]
    partner_profiles: int
    twins: int
    suggestions: int

    @property
    def waiting_for_partner_data(self) -> bool:
        return self.peers > 0 and self.partner_profiles == 0


async def dashboard_state(session: AsyncSession, resident: Resident) -> DashboardState:
    profile = await session.get(Profile, resident.id)
    peer_rows = (await session.execute(select(Peer.name, Peer.actor_url))).all()
    return DashboardState(
        profile_complete=bool(profile and profile.completed),
        paused=bool(profile and profile.paused),
        peers=len(peer_rows),
        peer_names=tuple(sorted(name or url for name, url in peer_rows)),
        partner_profiles=await _count(session, select(func.count(RemoteProfile.id))),
        twins=await _count(
            session, select(func.count(Twin.id)).where(Twin.resident_id == resident.id)
        ),
        suggestions=await _count(
            session,
            select(func.count(Suggestion.id)).where(Suggestion.resident_id == resident.id),
        ),
    )


async def _count(session: AsyncSession, statement: Select[Any]) -> int:
    return int(await session.scalar(statement) or 0)
