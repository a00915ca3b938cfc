"""The retention purge on a real node database: what is older than its period loses its
body, what is younger keeps it, pending work is never touched; and a peer's redelivery
of an activity whose body was purged is still recognised (202, applied once)."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from node.contacts import consent as contacts
from node.models import InboxActivity, OutboxActivity, Peer, Report, Resident, utcnow
from node.retention.purge import purge
from node.runtime import appkeys
from node.runtime.config import ConfigError, Retention, config_from_mapping
from node.runtime.db import Database
from node.runtime.mail import Mail, mail_file_name
from support.contacts import act, ask, post_as, the_contact, twin_cities, until_contact
from support.federation import wait_for
from support.nodes import node_document
from support.templates import migrated_database

BODY = {"type": "Note", "content": "qx-retention-body"}
DAY = timedelta(days=1)


def _inbox(name: str, state: str, received: datetime, applied: datetime | None) -> InboxActivity:
    return InboxActivity(
        activity_id=f"https://peer.example/activities/{name}",
        activity_type="Create",
        object_type="Note",
        actor="https://peer.example/p/x",
        payload=dict(BODY),
        state=state,
        received_at=received,
        applied_at=applied,
        next_try_at=received,
    )


def _outbox(
    peer: int, name: str, state: str, created: datetime, delivered: datetime | None
) -> OutboxActivity:
    return OutboxActivity(
        peer_id=peer,
        activity_id=f"https://here.example/activities/{name}",
        activity_type="Create",
        payload=dict(BODY),
        state=state,
        created_at=created,
        delivered_at=delivered,
        next_try_at=created,
    )


def _report(name: str, state: str, created: datetime, handled: datetime | None) -> Report:
    return Report(
        origin="filed",
        reported_actor=f"https://peer.example/p/{name}",
        reason="spam",
        comment="qx-retention-comment",
        messages=[{"id": "n", "body": "qx-retention-copy", "created": created.isoformat()}],
        state=state,
        created_at=created,
        handled_at=handled,
    )


async def test_each_period_drops_old_bodies_and_keeps_the_rest(
    database_url: str, tmp_path: Path
) -> None:
    await migrated_database(database_url)
    db = Database.open(database_url)
    now = utcnow()
    try:
        async with db.write() as uow:
            peer = Peer(actor_url="https://peer.example/actor", origin="https://peer.example")
            resident = Resident(
                email="kept@example.org", password_hash="x", display_name="Kept", kind="person"
            )
            uow.add_all([peer, resident])
            await uow.flush()
            uow.add_all(
                [
                    _inbox("applied-old", "applied", now - 9 * DAY, now - 8 * DAY),
                    _inbox("applied-young", "applied", now - 2 * DAY, now - 1 * DAY),
                    _inbox("pending-old", "pending", now - 60 * DAY, None),
                    _inbox("failed-old", "failed", now - 31 * DAY, None),
                    _inbox("failed-young", "failed", now - 10 * DAY, None),
                    _outbox(peer.id, "delivered-old", "delivered", now - 9 * DAY, now - 8 * DAY),
                    _outbox(peer.id, "delivered-young", "delivered", now - 2 * DAY, now - DAY),
                    _outbox(peer.id, "pending-old", "pending", now - 60 * DAY, None),
                    _outbox(peer.id, "sending-old", "sending", now - 60 * DAY, None),
                    _outbox(peer.id, "failed-old", "failed", now - 31 * DAY, None),
                    _outbox(peer.id, "failed-young", "failed", now - 10 * DAY, None),
                    _report("closed-old", "dismissed", now - 200 * DAY, now - 181 * DAY),
                    _report("closed-young", "dismissed", now - 20 * DAY, now - 10 * DAY),
                    _report("open-old", "open", now - 400 * DAY, None),
                ]
            )
            resident_id = resident.id
        mail = tmp_path / "mail"
        mail.mkdir()
        files = {
            "old": mail_file_name(
                Mail("a@x", "s", "b", resident_id), "20260101T000000000000", "0" * 8
            ),
            "young": mail_file_name(
                Mail("a@x", "s", "b", resident_id), "20260101T000000000001", "1" * 8
            ),
            "gone": mail_file_name(
                Mail("a@x", "s", "b", resident_id + 1), "20260101T000000000002", "2" * 8
            ),
        }
        for key, name in files.items():
            (mail / name).write_text(key)
        old = (now - 31 * DAY).timestamp()
        os.utime(mail / files["old"], (old, old))

        result = await purge(db, Retention(), now, mail)

        async with db.read() as uow:
            inbox = {
                row.activity_id.rsplit("/", 1)[1]: row
                for row in await uow.scalars(select(InboxActivity))
            }
            outbox = {
                row.activity_id.rsplit("/", 1)[1]: row
                for row in await uow.scalars(select(OutboxActivity))
            }
            reports = {
                row.reported_actor.rsplit("/", 1)[1]: row
                for row in await uow.scalars(select(Report))
            }
        assert _bodies(inbox) == {
            "applied-old": {},
            "applied-young": BODY,
            "pending-old": BODY,
            "failed-old": {},
            "failed-young": BODY,
        }
        assert (
            inbox["applied-old"].purged_at is not None and inbox["pending-old"].state == "pending"
        )
        assert _bodies(outbox) == {
            "delivered-old": {},
            "delivered-young": BODY,
            "pending-old": BODY,
            "sending-old": BODY,
            "failed-young": BODY,
        }
        assert [(r.comment, r.messages) for r in (reports["closed-old"],)] == [("", [])]
        for kept in ("closed-young", "open-old"):
            assert reports[kept].comment == "qx-retention-comment" and reports[kept].messages
        assert sorted(path.read_text() for path in mail.iterdir()) == ["young"]
        assert (result.inbox_bodies, result.outbox_bodies, result.outbox_failed) == (2, 1, 1)
        assert (result.report_copies, result.mail_files) == (1, 2)

        # Zero days: everything applied or delivered loses its body at the next pass.
        later = now + timedelta(seconds=1)
        await purge(db, Retention(activity_payload_days=0, failed_activity_days=0), later, mail)
        async with db.read() as uow:
            left = [
                row.activity_id
                for model in (InboxActivity, OutboxActivity)
                for row in await uow.scalars(select(model))
                if row.payload and row.state not in ("pending", "sending")
            ]
        assert left == []
    finally:
        await db.dispose()


def _bodies(rows: dict[str, Any]) -> dict[str, Any]:
    return {name: row.payload for name, row in rows.items()}


async def test_a_purged_activity_redelivered_is_acknowledged_and_not_applied_again(
    tmp_path: Path,
) -> None:
    async with twin_cities(tmp_path, pages=False) as cities:
        await ask(cities.oldenburg, cities.anna, cities.bruno_actor)
        incoming = await until_contact(
            cities.cholet, cities.bruno, lambda c: c.their_consent == "yes", "request at Cholet"
        )
        assert cities.oldenburg.app is not None and cities.cholet.app is not None
        async with cities.oldenburg.app[appkeys.DATABASE].read() as uow:
            follow = await uow.scalar(
                select(OutboxActivity).where(OutboxActivity.activity_type == "Follow")
            )
        assert follow is not None
        sent = dict(follow.payload)
        # Bruno says no; then the Follow comes again after its body was purged at Cholet.
        await act(cities.cholet, contacts.answer_request, cities.bruno, incoming.id, accept=False)
        cholet_db = cities.cholet.app[appkeys.DATABASE]
        await purge(cholet_db, Retention(activity_payload_days=0), utcnow())
        async with cholet_db.read() as uow:
            stored = await uow.scalar(
                select(InboxActivity).where(InboxActivity.activity_id == sent["id"])
            )
        assert stored is not None and stored.payload == {} and stored.purged_at is not None

        again = await post_as(cities.oldenburg, cities.cholet, sent)
        assert again.status_code == 202 and again.json()["status"] == "duplicate"
        contact = await the_contact(cities.cholet, cities.bruno)
        assert contact.my_consent == "declined" and contact.their_consent == "yes"

        async def delivered() -> bool:
            async with cities.oldenburg.app[appkeys.DATABASE].read() as uow:  # type: ignore[index]
                row = await uow.get(OutboxActivity, follow.id)
            return row is not None and row.state == "delivered"

        await wait_for(delivered, what="the Follow settled at Oldenburg")


def test_retention_periods_are_validated() -> None:
    document = node_document("oldenburg", 8401, "sqlite+aiosqlite:///x.db")
    config = config_from_mapping({**document, "retention": {"mail_file_days": 0}}, environ={})
    assert config.retention.mail_file_days == 0 and config.retention.activity_payload_days == 7
    with pytest.raises(ConfigError, match=r"retention\.failed_activity_days"):
        config_from_mapping({**document, "retention": {"failed_activity_days": -1}}, environ={})
    with pytest.raises(ConfigError, match=r"retention\.keep_forever: unknown field"):
        config_from_mapping({**document, "retention": {"keep_forever": 1}}, environ={})
