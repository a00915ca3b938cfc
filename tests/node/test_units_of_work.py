"""Units of work: reads never wait for the write lock, a read unit cannot write, and
domain events reach their subscribers only after a commit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from node.models import Peer
from node.runtime import appkeys, migrate
from node.runtime.db import Database
from node.runtime.events import DomainEvents
from support.nodes import prepare_node


@dataclass(frozen=True)
class Happened:
    what: str


def _peer(name: str) -> Peer:
    return Peer(
        actor_url=f"https://{name}.example/actor",
        origin=f"https://{name}.example",
        source="admin",
    )


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database.open(database_url)
    await migrate.upgrade(database.engine)
    yield database
    await database.dispose()


async def test_a_page_read_completes_while_a_long_write_is_open(
    tmp_path: Path, database_url: str
) -> None:
    node = await prepare_node(tmp_path, "oldenburg", database_url)
    await node.start(extensions=[])
    try:
        db = node.app[appkeys.DATABASE]
        async with db.write() as uow:
            uow.add(_peer("writer"))
            await uow.flush()  # the write lock is held from here to the commit
            async with httpx.AsyncClient() as client:
                response = await asyncio.wait_for(client.get(f"{node.url}/nodeinfo/2.1"), timeout=5)
            assert response.status_code == 200
            assert response.json()["protocols"] == ["activitypub"]
    finally:
        await node.stop()


async def test_a_read_unit_sees_a_snapshot_and_cannot_write(db: Database) -> None:
    async with db.write() as uow:
        uow.add(_peer("one"))
        await uow.flush()
        async with db.read() as reading:  # not blocked by the open write
            assert await reading.scalar(select(func.count()).select_from(Peer)) == 0
    async with db.read() as reading:
        assert await reading.scalar(select(func.count()).select_from(Peer)) == 1
        if db.engine.dialect.name == "sqlite":
            reading.add(_peer("two"))
            with pytest.raises(DBAPIError):
                await reading.flush()


async def test_events_are_published_after_commit_only(database_url: str) -> None:
    events = DomainEvents()
    seen: list[str] = []

    async def subscriber(event: Happened) -> None:
        # after the commit: a fresh unit already sees the row
        async with db.read() as reading:
            count = await reading.scalar(select(func.count()).select_from(Peer))
        seen.append(f"{event.what}:{count}")

    events.subscribe(Happened, subscriber)
    db = Database.open(database_url, events)
    await migrate.upgrade(db.engine)
    try:
        with pytest.raises(RuntimeError):
            async with db.write() as uow:
                uow.add(_peer("gone"))
                uow.record(Happened("rolled back"))
                raise RuntimeError("the unit fails")
        async with db.write() as uow:
            uow.add(_peer("kept"))
            uow.record(Happened("committed"))
            uow.record(Happened("committed"))  # the same event twice is published once
            assert seen == []
        assert seen == ["committed:1"]
    finally:
        await db.dispose()
