"""Erasing what an account deletion leaves behind, on both nodes.

Deleting the resident row removes, through the foreign keys, the profile, contacts,
messages, vectors and matches at home; a peer's ``Delete`` of the pseudonym actor
ends the pairs there and drops what the pseudonym revealed and wrote
(:func:`node.contacts.remote_consent.remote_resident_left`). What neither reaches is
erased here, in the same unit of work:

* the raw activities in the inbox and the outbox that name one of the resident's
  pseudonym actors (sent by it, addressed to it, answering it): their bodies are
  dropped, the ids stay for de-duplication. Queued activities that would now only
  carry text to a pair that has ended are discarded; a queued ``Delete`` still goes
  out, because it is what tells the peer to erase its side;
* the copies of messages and the comment in closed reports that concern the
  resident (an open report keeps them until an admin closes it, then for
  ``handled_report_days``);
* mail files addressed to the resident or naming them (after the commit, see
  :class:`Erased`). Queued mail to the resident goes with the resident row
  (``ON DELETE CASCADE``); queued mail naming a peer resident who left is deleted.

A pseudonym is a 64-digit keyed hash, so finding it inside the stored JSON text is
exact in practice; activities whose body was already dropped need no search.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    SQLColumnExpression,
    Text,
    cast,
    delete,
    func,
    or_,
    select,
    update,
)

from node.models import InboxActivity, OutboxActivity, Pseudonym, QueuedMail, Report, utcnow
from node.runtime.db import UnitOfWork
from node.runtime.mail import actor_tag, mail_file_tags

ERASED_NOTE = "body erased: the resident deleted the account"
EMPTY_BODY_LENGTH = 2  # "{}"


@dataclass(frozen=True, slots=True)
class Erased:
    """An account's data was erased: after the commit, its mail files go too."""

    resident_ids: tuple[int, ...] = ()
    actor_urls: tuple[str, ...] = ()


def has_body(column: SQLColumnExpression[Any]) -> ColumnElement[bool]:
    """The stored JSON is more than an empty object or list."""
    return func.length(cast(column, Text)) > EMPTY_BODY_LENGTH


def _naming(column: SQLColumnExpression[Any], needles: Sequence[str]) -> ColumnElement[bool]:
    text = cast(column, Text)
    return or_(*(text.contains(needle, autoescape=True) for needle in needles))


async def erase_resident(uow: UnitOfWork, resident_id: int) -> None:
    """At home, before the resident row goes: everything that names the resident's
    pseudonyms (any epoch), their closed reports, and (after the commit) their mail."""
    needles = list(
        (
            await uow.scalars(
                select(Pseudonym.pseudonym).where(Pseudonym.resident_id == resident_id)
            )
        ).all()
    )
    await erase_activities(uow, needles)
    await _drop_closed_report_copies(
        uow, or_(Report.reporter_id == resident_id, Report.subject_id == resident_id)
    )
    uow.record(Erased(resident_ids=(resident_id,)))


async def erase_remote_resident(uow: UnitOfWork, actor_url: str) -> None:
    """At a peer, when the pseudonym actor of a deleted account is withdrawn: what it
    sent and what was sent to it, closed reports about it, and (after the commit)
    mails that name it."""
    await erase_activities(uow, [actor_url])
    await _drop_closed_report_copies(uow, Report.reported_actor == actor_url)
    await uow.execute(
        delete(QueuedMail)
        .where(_naming(QueuedMail.mentions, [actor_url]))
        .execution_options(synchronize_session=False)
    )
    uow.record(Erased(actor_urls=(actor_url,)))


async def erase_activities(uow: UnitOfWork, needles: Sequence[str]) -> None:
    """Drop the bodies of stored activities naming any of ``needles`` (see the module
    text for which queued ones still go out)."""
    if not needles:
        return
    now = utcnow()
    inbox_rows = InboxActivity.purged_at.is_(None) & _naming(InboxActivity.payload, needles)
    await uow.execute(
        update(InboxActivity)
        .where(inbox_rows, InboxActivity.state != "pending")
        .values(payload={}, purged_at=now)
        .execution_options(synchronize_session=False)
    )
    # Not applied yet: applying it now could only touch a pair that has ended.
    await uow.execute(
        update(InboxActivity)
        .where(inbox_rows, InboxActivity.state == "pending")
        .values(payload={}, purged_at=now, state="failed", last_error=ERASED_NOTE)
        .execution_options(synchronize_session=False)
    )
    outbox_rows = OutboxActivity.purged_at.is_(None) & _naming(OutboxActivity.payload, needles)
    await uow.execute(
        update(OutboxActivity)
        .where(outbox_rows, OutboxActivity.state == "delivered")
        .values(payload={}, purged_at=now)
        .execution_options(synchronize_session=False)
    )
    # Failed rows are only kept to be retried by an admin, which a body-less row cannot
    # be; queued ones other than the withdrawal itself would carry text to an ended pair.
    await uow.execute(
        delete(OutboxActivity)
        .where(
            outbox_rows,
            or_(
                OutboxActivity.state == "failed",
                OutboxActivity.state.in_(("pending", "sending"))
                & (OutboxActivity.activity_type != "Delete"),
            ),
        )
        .execution_options(synchronize_session=False)
    )


async def _drop_closed_report_copies(uow: UnitOfWork, concerning: ColumnElement[bool]) -> None:
    await uow.execute(
        update(Report)
        .where(concerning, Report.state != "open")
        .values(messages=[], comment="")
        .execution_options(synchronize_session=False)
    )


def erase_mail_files(
    directory: Path, resident_ids: Iterable[int] = (), actor_urls: Iterable[str] = ()
) -> int:
    """Delete the mail files addressed to any of ``resident_ids`` or naming any of
    ``actor_urls``; returns how many. Blocking: run it in a thread."""
    residents = set(resident_ids)
    tags = {actor_tag(url) for url in actor_urls}
    if not directory.is_dir() or not (residents or tags):
        return 0
    removed = 0
    for path in directory.iterdir():
        found = mail_file_tags(path.name)
        if found is None:
            continue
        if found.resident_id in residents or found.actor_tags & tags:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed += 1
    return removed
