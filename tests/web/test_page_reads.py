"""A logged-in resident's page views only read: no write transaction, no row lock, so
that pages never queue for SQLite's write lock behind each other or behind the
workers. Counted with an SQLAlchemy listener on every statement the node sends (on
the backend under test: SQLite, or PostgreSQL when configured).

Opening a conversation or the requests page marks what they show as seen: that
write happens when there is something new, and only then."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from node.contacts import messages
from node.models import Contact, Message, Notice, Peer, Resident, utcnow
from node.models.notifications import NOTICE_MESSAGE, NOTICE_REQUEST
from node.peers import registry
from node.runtime.db import Database
from support.nodes import RunningNode
from support.statements import statements
from support.web import Visitor

EMAIL = "leser@oldenburg.example"
REMOTE = "https://cholet.example/p/"
WRITES = ("INSERT", "UPDATE", "DELETE", "BEGIN IMMEDIATE")


def writes(sent: list[tuple[str, Any]]) -> list[str]:
    """Statements that change data or take a lock."""
    return [s for s, _ in sent if s.upper().startswith(WRITES) or " FOR UPDATE" in s.upper()]


async def contacts_of(db: Database, email: str) -> tuple[int, int, int]:
    """A peer, a mutual contact with two messages (one new) and an unseen notice, and
    a request waiting for an answer with its notice; the two contacts' ids and the
    new message's id."""
    now = utcnow()
    async with db.write() as session:
        resident = await session.scalar(select(Resident).where(Resident.email == email))
        assert resident is not None
        peer = await registry.upsert(session, "https://cholet.example/actor", source="admin")
        peer.name = "Cholet"
        await session.flush()
        local = "https://oldenburg.example/p/me"
        mutual = Contact(
            resident_id=resident.id,
            peer_id=peer.id,
            local_actor=local,
            remote_actor=REMOTE + "camille",
            my_consent="yes",
            their_consent="yes",
            mutual_since=now,
            their_name="Camille",
            my_follow_id=f"{local}/f/1",
            their_follow_id=f"{REMOTE}camille/f/1",
        )
        asking = Contact(
            resident_id=resident.id,
            peer_id=peer.id,
            local_actor=local,
            remote_actor=REMOTE + "bruno",
            their_consent="yes",
            their_follow_id=f"{REMOTE}bruno/f/1",
        )
        session.add_all([mutual, asking])
        await session.flush()
        old = Message(
            contact_id=mutual.id,
            direction="out",
            activity_id=f"{local}/a/1",
            note_id=f"{local}/n/1",
            body="Bonjour !",
            created_at=now - timedelta(hours=2),
            read_at=now - timedelta(hours=2),
        )
        new = Message(
            contact_id=mutual.id,
            direction="in",
            activity_id=f"{REMOTE}camille/a/2",
            note_id=f"{REMOTE}camille/n/2",
            body="Salut Leser",
            created_at=now - timedelta(hours=1),
            notify="pending",
        )
        session.add_all([old, new])
        session.add(Notice(resident_id=resident.id, contact_id=mutual.id, kind=NOTICE_MESSAGE))
        session.add(Notice(resident_id=resident.id, contact_id=asking.id, kind=NOTICE_REQUEST))
        await session.flush()
        return mutual.id, asking.id, new.id


async def test_page_views_of_a_logged_in_resident_do_not_write(node: RunningNode) -> None:
    db = node.database
    async with Visitor(node) as reader:
        await reader.with_profile(EMAIL)
        conversation_id, _request_id, message_id = await contacts_of(db, EMAIL)
        # Only the node's statements: the visitor runs the mail worker after each page.
        reader.client.event_hooks = {"response": []}
        for path in ("/", "/twin", "/contacts", "/dashboard"):
            with statements(db) as sent:
                page = await reader.get(path)
            assert page.status_code == 200, path
            assert sent, "the listener sees the node's statements"
            assert writes(sent) == [], (path, writes(sent))

        # The first view of the conversation marks the new message read, once.
        with statements(db) as sent:
            page = await reader.get(f"/contacts/{conversation_id}")
        assert page.status_code == 200 and "Salut Leser" in page.text
        assert writes(sent), "the new message is marked read"
        async with db.read() as session:
            message = await session.get(Message, message_id)
            assert message is not None
            assert message.read_at is not None and message.notify == "none"
        with statements(db) as sent:
            again = await reader.get(f"/contacts/{conversation_id}")
        assert again.status_code == 200
        assert writes(sent) == []

        # The same for the requests page and its notice.
        with statements(db) as sent:
            assert (await reader.get("/contacts/requests")).status_code == 200
        assert writes(sent)
        with statements(db) as sent:
            assert (await reader.get("/contacts/requests")).status_code == 200
        assert writes(sent) == []
        async with db.read() as session:
            unseen = await session.scalars(select(Notice).where(Notice.seen_at.is_(None)))
            assert list(unseen) == []

        # Someone else's conversation stays hidden, without a lock taken.
        with statements(db) as sent:
            assert (await reader.get(f"/contacts/{conversation_id + 100}")).status_code == 404
        assert writes(sent) == []


async def test_a_message_arriving_after_the_page_read_stays_new(node: RunningNode) -> None:
    db = node.database
    async with Visitor(node) as reader:
        await reader.with_profile(EMAIL)
    conversation_id, _request_id, shown_id = await contacts_of(db, EMAIL)
    async with db.read() as session:
        resident = await session.scalar(select(Resident).where(Resident.email == EMAIL))
        assert resident is not None
        shown = await messages.conversation(session, resident, conversation_id)
    assert shown.unseen
    async with db.write() as session:
        later = Message(
            contact_id=conversation_id,
            direction="in",
            activity_id=f"{REMOTE}camille/a/3",
            note_id=f"{REMOTE}camille/n/3",
            body="Encore moi",
            notify="pending",
        )
        session.add(later)
        notice = await session.scalar(select(Notice).where(Notice.kind == NOTICE_MESSAGE))
        assert notice is not None
        notice.count += 1
        notice.updated_at = utcnow() + timedelta(seconds=1)
        await session.flush()
        later_id = later.id
    async with db.write() as session:
        await messages.mark_seen(session, resident, shown)
    async with db.read() as session:
        seen = await session.get(Message, shown_id)
        unseen = await session.get(Message, later_id)
        notice = await session.scalar(select(Notice).where(Notice.kind == NOTICE_MESSAGE))
        peers = list(await session.scalars(select(Peer)))
    assert seen is not None and seen.read_at is not None and seen.notify == "none"
    assert unseen is not None and unseen.read_at is None and unseen.notify == "pending"
    assert notice is not None and notice.seen_at is None
    assert peers
