"""What the "my twin" page may show a resident: their twin(s) and top suggestions per
partner city, each explained from the two shared vectors only.

Nothing here reads the other resident's node-local data (there is none on this node)
nor the viewer's raw profile: the explanation compares the viewer's vector exactly as
published with the other's vector exactly as received, so it can only name what both
sides actually shared. The only identifier handed out is ``target``, the other's
pseudonym actor URL, which the contact-request form posts back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from matching.explain import Explanation, explain
from matching.languages import load_languages
from matching.occupations import load_occupations
from matching.profile import InterestProfile
from matching.taxonomy import load_taxonomy
from node.matches.partners import Connection, PartnerCity, partner_cities
from node.models import Profile, PublishedVector, RemoteProfile, Resident, Suggestion, Twin
from node.vectors.stored import stored_profile

State = Literal["incomplete", "paused", "no_peers", "withheld", "ready"]
"""``withheld``: the profile takes part, but k-anonymity keeps it from every peer (even
coarsened, fewer than k residents of the kind would share it). A saved profile is
published in the same transaction as the save, so a missing vector means withheld (a
database filled before its node first ran is published by the node's start-up pass)."""

_VIEWER = "urn:zwilling:viewer"  # the viewer's own vector needs an id, not a real one


@dataclass(frozen=True, slots=True)
class MatchView:
    target: str
    score: float
    kind: str
    age_band: str | None
    children_age_bands: tuple[str, ...]
    explanation: Explanation
    twin: bool

    @classmethod
    def of(
        cls, viewer: InterestProfile, other: InterestProfile, score: float, lang: str, *, twin: bool
    ) -> MatchView:
        """``other`` as ``viewer`` sees it, with why they fit, in ``lang``."""
        return cls(
            target=other.id,
            score=score,
            kind=other.kind,
            age_band=other.age_band,
            children_age_bands=other.children_age_bands,
            explanation=explain(
                viewer,
                other,
                lang,
                taxonomy=load_taxonomy(),
                occupations=load_occupations(),
                languages=load_languages(),
            ),
            twin=twin,
        )

    @property
    def percent(self) -> int:
        """The score as a whole percentage (never 0 % for an actual match)."""
        return max(1, min(100, round(self.score * 100)))


@dataclass(frozen=True, slots=True)
class PeerView:
    name: str | None
    """The partner city's name (None before its actor was first fetched)."""
    connection: Connection
    profiles_arrived: bool
    twins: tuple[MatchView, ...]
    suggestions: tuple[MatchView, ...]


@dataclass(frozen=True, slots=True)
class TwinOverview:
    state: State
    peers: tuple[PeerView, ...]


# The page's statements are built once: building a statement and its cache key costs
# more than the database takes to answer it.
_OWN = (
    select(Profile.completed, Profile.paused, PublishedVector.vector)
    .outerjoin(PublishedVector, PublishedVector.resident_id == Profile.resident_id)
    .where(Profile.resident_id == bindparam("resident"))
)
_TWINS = (
    select(Twin.score, RemoteProfile.actor_url, RemoteProfile.vector)
    .join(RemoteProfile, RemoteProfile.id == Twin.remote_profile_id)
    .where(Twin.resident_id == bindparam("resident"), Twin.peer_id == bindparam("peer"))
    .where(Twin.current())
    .order_by(Twin.score.desc(), RemoteProfile.actor_url)
)
_SUGGESTIONS = (
    select(Suggestion.score, RemoteProfile.actor_url, RemoteProfile.vector)
    .join(RemoteProfile, RemoteProfile.id == Suggestion.remote_profile_id)
    .where(Suggestion.resident_id == bindparam("resident"), Suggestion.peer_id == bindparam("peer"))
    .where(Suggestion.current())
    .order_by(Suggestion.rank)
)


async def twin_overview(session: AsyncSession, resident: Resident, lang: str) -> TwinOverview:
    own = (await session.execute(_OWN, {"resident": resident.id})).first()
    if own is None or not own.completed:
        return TwinOverview("incomplete", ())
    if own.paused:
        return TwinOverview("paused", ())
    partners = await partner_cities(session)
    if not partners:
        return TwinOverview("no_peers", ())
    if own.vector is None:
        return TwinOverview("withheld", ())
    viewer = stored_profile(own.vector, _VIEWER)
    views = []
    for partner in partners:
        views.append(await _peer_view(session, resident, partner, viewer, lang))
    return TwinOverview("ready", tuple(views))


async def _peer_view(
    session: AsyncSession,
    resident: Resident,
    partner: PartnerCity,
    viewer: InterestProfile,
    lang: str,
) -> PeerView:
    peer_id = partner.peer_id
    mine = {"resident": resident.id, "peer": peer_id}
    twin_rows = (await session.execute(_TWINS, mine)).all()
    suggestion_rows = (await session.execute(_SUGGESTIONS, mine)).all()
    twins = {actor_url for _score, actor_url, _vector in twin_rows}
    # Whether the partner's profiles are here at all matters only when nothing is shown.
    arrived = bool(twin_rows or suggestion_rows) or (
        await session.scalar(
            select(RemoteProfile.id).where(RemoteProfile.peer_id == peer_id).limit(1)
        )
        is not None
    )
    return PeerView(
        name=partner.name,
        connection=partner.connection,
        profiles_arrived=arrived,
        twins=_views(twin_rows, viewer, lang, twin=True),
        suggestions=_views(
            [row for row in suggestion_rows if row[1] not in twins],
            viewer,
            lang,
            twin=False,
        ),
    )


def _views(
    rows: Sequence[tuple[float, str, dict[str, Any]]],
    viewer: InterestProfile,
    lang: str,
    *,
    twin: bool,
) -> tuple[MatchView, ...]:
    return tuple(
        MatchView.of(viewer, stored_profile(vector, actor_url), score, lang, twin=twin)
        for score, actor_url, vector in rows
    )
