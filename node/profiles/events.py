"""The points where a resident's published state changes.

Every change that affects what peers may know about a resident (a saved profile,
pausing or resuming matching, leaving the node) calls one of these hooks inside the
same transaction as the change itself. That is what lets the publication to peers
(an outbox row) commit together with the change, or not at all.

The running node binds its publisher to its sessions at start-up. A session without
one (a maintenance script) publishes nothing here; the reconciliation the node runs
at start-up and with every recompute then sends what was missed.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from node.matches.refresh import note_changed
from node.models import Resident
from node.vectors import publication as vector_publication

log = logging.getLogger(__name__)


async def profile_changed(session: AsyncSession, resident: Resident) -> None:
    """Called after a resident's profile or pause switch changed, before commit."""
    publisher = vector_publication.bound_publisher(session)
    if publisher is None:
        log.warning("profile changed without a publisher; the next reconciliation sends it")
        return
    await vector_publication.publish_changes(session, publisher, changed=[resident.id])
    note_changed(resident.id)


async def resident_leaving(session: AsyncSession, resident: Resident) -> None:
    """Called before a resident's rows are deleted, while they can still be read."""
    publisher = vector_publication.bound_publisher(session)
    if publisher is None:
        log.warning("resident left without a publisher; the next reconciliation withdraws")
        return
    await vector_publication.publish_changes(session, publisher, leaving=resident.id)
