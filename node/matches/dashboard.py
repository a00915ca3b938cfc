"""What a resident's start page can honestly say about where things stand.

The twin search depends on things the resident cannot see: whether partner cities
are configured and actually connected, whether their data has arrived, whether
matching has run. The dashboard states each of them plainly instead of showing an
empty list that looks like "nobody matches you", and every number says what it
counts: the twin apart from the other suggestions, and only the partner profiles of
the resident's own kind (the only ones a twin can come from). Every visit asks for
that count, so it is read from the indexed ``kind`` column, never out of each
partner profile's JSON (which meant reading all of a city's profiles).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.matches.partners import PartnerCity, partner_cities
from node.models import Profile, RemoteProfile, Resident, Suggestion, Twin


@dataclass(frozen=True, slots=True)
class DashboardState:
    profile_complete: bool
    paused: bool
    partners: Sequence[PartnerCity]
    partner_profiles: int
    """Profiles of the resident's kind received from partner cities."""
    twins: int
    suggestions: int
    """Suggestions besides the twin(s)."""

    @property
    def peers(self) -> int:
        return len(self.partners)

    @property
    def waiting_for_partner_data(self) -> bool:
        return self.peers > 0 and self.partner_profiles == 0


async def dashboard_state(session: AsyncSession, resident: Resident) -> DashboardState:
    profile = await session.get(Profile, resident.id)
    twins = select(Twin.remote_profile_id).where(Twin.resident_id == resident.id, Twin.current())
    return DashboardState(
        profile_complete=bool(profile and profile.completed),
        paused=bool(profile and profile.paused),
        partners=await partner_cities(session),
        partner_profiles=await _count(
            session,
            select(func.count())
            .select_from(RemoteProfile)
            .where(RemoteProfile.kind == resident.kind),
        ),
        twins=await _count(
            session,
            select(func.count(Twin.id)).where(Twin.resident_id == resident.id, Twin.current()),
        ),
        suggestions=await _count(
            session,
            select(func.count(Suggestion.id)).where(
                Suggestion.resident_id == resident.id,
                Suggestion.remote_profile_id.not_in(twins),
                Suggestion.current(),
            ),
        ),
    )


async def _count(session: AsyncSession, statement: Select[Any]) -> int:
    return int(await session.scalar(statement) or 0)
