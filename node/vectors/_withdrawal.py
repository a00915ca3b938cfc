"""Withdrawing what peers hold: a profile (paused, incomplete, reset: a ``Delete`` of the
``InterestProfile``, contacts go on) or a pseudonym actor (account deleted or suspended:
a ``Delete`` of the actor, the peer ends everything made under it).

Runs in the caller's transaction, as publication does: the ``Delete`` rows commit with
the change that caused them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from node import pseudonyms
from node.contacts import remote_consent
from node.federation import outbox
from node.models import Peer, Pseudonym, PublishedVector, Resident, Suggestion, Twin
from node.runtime.db import UnitOfWork
from node.vectors._population import chunks
from node.vectors.activities import Publisher, delete_activity


async def peers(session: AsyncSession) -> list[Peer]:
    return list((await session.scalars(select(Peer).order_by(Peer.id))).all())


async def withdraw(
    session: UnitOfWork, publisher: Publisher, resident_ids: Sequence[int], now: datetime
) -> None:
    """Paused or incomplete: peers drop the vector (a ``Delete`` of the profile), matches
    go; the pseudonym actors stay for the contacts made under them."""
    if not resident_ids:
        return
    withdrawn: list[Pseudonym] = []
    for resident_id in resident_ids:
        withdrawn += await pseudonyms.withdraw(session, resident_id, when=now)
    await send_deletes(session, publisher, withdrawn, now, actor_deleted=False)
    await drop_published(session, resident_ids)


async def retire(
    session: UnitOfWork, publisher: Publisher, resident_id: int, now: datetime
) -> None:
    """Leaving (or suspended): every pseudonym actor of the resident, of every epoch, is
    deleted at its peer (which drops vector, revealed data, contacts and messages)."""
    retired = await pseudonyms.retire(session, resident_id, when=now)
    await send_deletes(session, publisher, retired, now, actor_deleted=True)
    await drop_published(session, [resident_id])


async def drop_published(session: AsyncSession, resident_ids: Sequence[int]) -> None:
    for chunk in chunks(list(resident_ids)):
        for model in (PublishedVector, Suggestion, Twin):
            await session.execute(delete(model).where(model.resident_id.in_(chunk)))


async def send_deletes(
    session: UnitOfWork,
    publisher: Publisher,
    rows: Sequence[Pseudonym],
    now: datetime,
    *,
    actor_deleted: bool,
) -> None:
    """Tell each peer that a profile (or, ``actor_deleted``, a pseudonym actor) is
    withdrawn. A deleted actor's contacts end here as the peer ends them there; a
    withdrawn profile's contacts continue on both nodes."""
    if not rows:
        return
    by_id = {peer.id: peer for peer in await peers(session)}
    activities = []
    for row in rows:
        peer = by_id.get(row.peer_id)
        if peer is None:
            continue
        sequence = pseudonyms.next_sequence(publisher.secret, row)
        activities.append(
            (
                peer,
                delete_activity(
                    publisher,
                    peer.actor_url,
                    row.pseudonym,
                    actor_deleted=actor_deleted,
                    sequence=sequence,
                    now=now,
                ),
            )
        )
    await session.flush()
    await outbox.enqueue_many(session, activities)
    if actor_deleted:
        await remote_consent.pseudonyms_withdrawn(
            session, [publisher.pseudonym_url(row.pseudonym) for row in rows]
        )


async def withdraw_orphans(session: UnitOfWork, publisher: Publisher, now: datetime) -> int:
    """Repair what a change that bypassed the hooks left behind: actors of residents who
    are gone or suspended are retired, and a profile still published under a pseudonym
    that is not its resident's current one (reset since) is withdrawn."""
    gone = list(
        (
            await session.scalars(
                select(Pseudonym).where(
                    Pseudonym.resident_id.is_(None), Pseudonym.retired_at.is_(None)
                )
            )
        ).all()
    )
    gone += (
        await session.scalars(
            select(Pseudonym)
            .join(Resident, Resident.id == Pseudonym.resident_id)
            .where(Resident.status == "suspended", Pseudonym.retired_at.is_(None))
        )
    ).all()
    for row in gone:
        row.retired_at = now
        if row.withdrawn_at is None:
            row.withdrawn_at = now
    await send_deletes(session, publisher, gone, now, actor_deleted=True)
    superseded = list(
        (
            await session.scalars(
                select(Pseudonym)
                .join(Resident, Resident.id == Pseudonym.resident_id)
                .where(
                    Pseudonym.withdrawn_at.is_(None),
                    Resident.pseudonym_epoch != Pseudonym.epoch,
                )
            )
        ).all()
    )
    for row in superseded:
        row.withdrawn_at = now
    await send_deletes(session, publisher, superseded, now, actor_deleted=False)
    return len(gone) + len(superseded)


async def suspended(session: AsyncSession, resident_ids: set[int]) -> set[int]:
    """Those of ``resident_ids`` who are suspended and still have an actor at a peer."""
    found: set[int] = set()
    for chunk in chunks(sorted(resident_ids)):
        found.update(
            await session.scalars(
                select(Resident.id)
                .join(Pseudonym, Pseudonym.resident_id == Resident.id)
                .where(
                    Resident.id.in_(chunk),
                    Resident.status == "suspended",
                    Pseudonym.retired_at.is_(None),
                )
                .distinct()
            )
        )
    return found
