"""The periodic purge: the ``[retention]`` periods applied to what the node stores.

* inbox: the body of an applied activity after ``activity_payload_days``, of a failed
  one after ``failed_activity_days``; the row and its ``activity_id`` stay, so a
  redelivery is still recognised (202, not applied again). Pending rows are never
  touched: they still have to be applied;
* outbox: the body of a delivered activity after ``activity_payload_days``; a failed
  row after ``failed_activity_days`` is deleted (it was kept only for an admin to
  retry, which needs its body). Pending and sending rows are never touched;
* reports: the message copies and the comment of a closed report,
  ``handled_report_days`` after it was closed (reason, state and dates stay);
* mail files of the file backend after ``mail_file_days``, and at once those of
  residents who no longer exist or that name a peer resident who left (in case the
  erasure after an account deletion was interrupted); sent and given-up rows of the
  mail queue after ``mail_file_days`` too (pending ones still have to go);
* login and mail counters untouched for a day (they count nothing any more);
* login sessions past their idle or absolute timeout (residents who never logged
  out; a visitor without an account has no row).

Each batch is its own short unit of work, so the purge never holds SQLite's write
lock for long.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import InstrumentedAttribute

from node.accounts.sessions import purge_expired_sessions
from node.models import (
    Contact,
    InboxActivity,
    LoginThrottle,
    OutboxActivity,
    QueuedMail,
    Report,
    Resident,
)
from node.retention.erasure import has_body
from node.runtime.config import Retention, SessionSection
from node.runtime.db import Database
from node.runtime.mail import MailFileTags, actor_tag, mail_file_tags

BATCH = 500
DAY = timedelta(days=1)


@dataclass
class PurgeResult:
    inbox_bodies: int = 0
    outbox_bodies: int = 0
    outbox_failed: int = 0
    report_copies: int = 0
    mail_files: int = 0
    queued_mails: int = 0
    counters: int = 0
    sessions: int = 0

    @property
    def total(self) -> int:
        return (
            self.inbox_bodies
            + self.outbox_bodies
            + self.outbox_failed
            + self.report_copies
            + self.mail_files
            + self.queued_mails
            + self.counters
            + self.sessions
        )


async def purge(
    db: Database,
    retention: Retention,
    now: datetime,
    mail_directory: Path | None = None,
    *,
    sessions: SessionSection | None = None,
) -> PurgeResult:
    """One pass over everything with a retention period (and over timed-out sessions
    when ``sessions`` gives their timeouts)."""
    result = PurgeResult()
    result.inbox_bodies = await _drop_bodies(
        db,
        InboxActivity,
        InboxActivity.state == "applied",
        func.coalesce(InboxActivity.applied_at, InboxActivity.received_at)
        < now - retention.activity_payload_days * DAY,
        now,
    )
    result.inbox_bodies += await _drop_bodies(
        db,
        InboxActivity,
        InboxActivity.state == "failed",
        InboxActivity.received_at < now - retention.failed_activity_days * DAY,
        now,
    )
    result.outbox_bodies = await _drop_bodies(
        db,
        OutboxActivity,
        OutboxActivity.state == "delivered",
        func.coalesce(OutboxActivity.delivered_at, OutboxActivity.created_at)
        < now - retention.activity_payload_days * DAY,
        now,
    )
    result.outbox_failed = await _delete_rows(
        db,
        OutboxActivity.id,
        (OutboxActivity.state == "failed")
        & (OutboxActivity.created_at < now - retention.failed_activity_days * DAY),
    )
    result.report_copies = await _drop_report_copies(db, now - retention.handled_report_days * DAY)
    result.queued_mails = await _delete_rows(
        db,
        QueuedMail.id,
        QueuedMail.state.in_(("sent", "failed"))
        & (
            func.coalesce(QueuedMail.sent_at, QueuedMail.created_at)
            < now - retention.mail_file_days * DAY
        ),
    )
    # Attempt and mail counters untouched for a day.
    result.counters = await _delete_rows(
        db, LoginThrottle.email, LoginThrottle.last_failure_at < now - DAY
    )
    if sessions is not None:
        async with db.write() as session:
            result.sessions = await purge_expired_sessions(session, sessions, now=now)
    if mail_directory is not None:
        result.mail_files = await purge_mail_files(
            db, mail_directory, now - retention.mail_file_days * DAY
        )
    return result


async def _drop_bodies(
    db: Database,
    model: type[InboxActivity] | type[OutboxActivity],
    state: ColumnElement[bool],
    old: ColumnElement[bool],
    now: datetime,
) -> int:
    done = 0
    while True:
        async with db.write() as uow:
            ids = list(
                (
                    await uow.scalars(
                        select(model.id)
                        .where(model.purged_at.is_(None), state, old)
                        .order_by(model.id)
                        .limit(BATCH)
                    )
                ).all()
            )
            if ids:
                # The state is checked again: a row may have changed since it was read.
                await uow.execute(
                    update(model)
                    .where(model.id.in_(ids), state)
                    .values(payload={}, purged_at=now)
                    .execution_options(synchronize_session=False)
                )
        done += len(ids)
        if len(ids) < BATCH:
            return done


async def _delete_rows(
    db: Database, key: InstrumentedAttribute[Any], due: ColumnElement[bool]
) -> int:
    """Delete every row of ``key``'s table for which ``due`` holds, a batch per write
    so that nobody waits long for the lock; ``due`` is checked again on delete, as a
    row may have changed since it was read."""
    table = key.class_
    done = 0
    while True:
        async with db.write() as uow:
            keys = list((await uow.scalars(select(key).where(due).limit(BATCH))).all())
            if keys:
                await uow.execute(
                    delete(table)
                    .where(key.in_(keys), due)
                    .execution_options(synchronize_session=False)
                )
        done += len(keys)
        if len(keys) < BATCH:
            return done


async def _drop_report_copies(db: Database, before: datetime) -> int:
    async with db.write() as uow:
        ids = list(
            (
                await uow.scalars(
                    select(Report.id).where(
                        Report.state != "open",
                        Report.handled_at.is_not(None),
                        Report.handled_at < before,
                        (Report.comment != "") | has_body(Report.messages),
                    )
                )
            ).all()
        )
        if ids:
            await uow.execute(
                update(Report)
                .where(Report.id.in_(ids), Report.state != "open")
                .values(messages=[], comment="")
                .execution_options(synchronize_session=False)
            )
    return len(ids)


async def purge_mail_files(db: Database, directory: Path, before: datetime) -> int:
    """Old mail files, and those of residents gone or naming a peer resident gone."""
    files = await asyncio.to_thread(_mail_files, directory)
    if not files:
        return 0
    named = {tags.resident_id for _path, tags, _mtime in files if tags.resident_id is not None}
    async with db.read() as uow:
        existing: set[int] = set()
        ordered = sorted(named)
        for start in range(0, len(ordered), BATCH):
            chunk = ordered[start : start + BATCH]
            existing |= set(
                (await uow.scalars(select(Resident.id).where(Resident.id.in_(chunk)))).all()
            )
        left = {
            actor_tag(url)
            for url in (
                await uow.scalars(
                    select(Contact.remote_actor).where(Contact.remote_deleted_at.is_not(None))
                )
            ).all()
        }
    cutoff = before.timestamp()
    doomed = [
        path
        for path, tags, mtime in files
        if mtime < cutoff
        or (tags.resident_id is not None and tags.resident_id not in existing)
        or tags.actor_tags & left
    ]
    return await asyncio.to_thread(_unlink_all, doomed)


def _mail_files(directory: Path) -> list[tuple[Path, MailFileTags, float]]:
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        tags = mail_file_tags(path.name)
        if tags is None:
            continue
        with contextlib.suppress(FileNotFoundError):
            found.append((path, tags, path.stat().st_mtime))
    return found


def _unlink_all(paths: list[Path]) -> int:
    removed = 0
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed += 1
    return removed
