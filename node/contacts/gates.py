"""The matching gates, applied to a contact request on both nodes.

A suggestion list only shows pairs that pass the kind and language gates, but an actor
URL can be posted by hand or sent by a faulty peer. So the sending node checks the
gates before it queues a ``Follow``, and the receiving node checks them again before it
takes one. Both read the same two vectors matching scores — this node's resident as
published, the peer resident as received — so that both reach the verdict matching
reached (every gate is symmetric).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from matching.gates import KindGates, kinds_fit, language_gate
from node.models import PublishedVector, RemoteProfile
from node.vectors.stored import stored_profile

KIND = "kind"
LANGUAGE = "language"
NO_PROFILE = "no_profile"

REASONS = {
    KIND: "the two kinds of profile may not be matched (kind gate)",
    LANGUAGE: "no common usable language and no tandem (language gate)",
    NO_PROFILE: "no profile to check the gates against",
}
"""Why a pair fails, worded for a peer's log (a 403 from the inbox)."""


async def refusal(
    session: AsyncSession,
    resident_id: int,
    local_actor: str,
    remote_actor: str,
    peer_id: int,
    kind_gates: KindGates,
) -> str | None:
    """Which gate the pair fails (``KIND``, ``LANGUAGE``), ``NO_PROFILE`` when either
    vector is not held here (paused, withdrawn, not received yet), or None if it passes.

    The remote vector must have come from ``peer_id``: a peer cannot borrow another
    peer's profile to pass the gates.
    """
    published = await session.get(PublishedVector, resident_id)
    remote = await session.scalar(
        select(RemoteProfile.vector).where(
            RemoteProfile.actor_url == remote_actor, RemoteProfile.peer_id == peer_id
        )
    )
    if published is None or remote is None:
        return NO_PROFILE
    mine = stored_profile(published.vector, local_actor)
    theirs = stored_profile(remote, remote_actor)
    if not kinds_fit(mine.kind, theirs.kind, kind_gates):
        return KIND
    if not language_gate(mine, theirs):
        return LANGUAGE
    return None
