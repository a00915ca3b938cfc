"""On SQLite a connection remembers whether it is read-only: the ``query_only`` switch
is sent only when a unit of the other kind takes the connection (every statement is
a round trip to the driver's thread), and a reading unit still refuses to write
after a writing unit used the same connection."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from node.models import Peer
from node.runtime import db as runtime_db
from node.runtime import migrate
from node.runtime.db import Database, create_engine


@pytest.fixture
async def one_connection(tmp_path: Path) -> AsyncIterator[Database]:
    """A SQLite database whose units all share one connection (the node's settings)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'node.db'}"
    migrating = create_engine(url)
    await migrate.upgrade(migrating)
    await migrating.dispose()
    engine = create_async_engine(
        url,
        async_creator=runtime_db._sqlite_connector(url),
        poolclass=AsyncAdaptedQueuePool,
        pool_size=1,
        pool_reset_on_return=None,
    )
    event.listen(engine.sync_engine, "connect", runtime_db._sqlite_pragmas)
    event.listen(engine.sync_engine, "begin", runtime_db._sqlite_begin)
    event.listen(engine.sync_engine.pool, "reset", runtime_db._sqlite_reset)
    database = Database(engine)
    yield database
    await database.dispose()


@contextmanager
def pragmas(db: Database) -> Iterator[list[str]]:
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("PRAGMA query_only"):
            sent.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def peers(db: Database) -> int:
    async with db.read() as uow:
        return int(await uow.scalar(select(func.count()).select_from(Peer)) or 0)


async def test_the_switch_is_sent_only_when_the_kind_of_unit_changes(
    one_connection: Database,
) -> None:
    db = one_connection
    with pragmas(db) as sent:
        for _ in range(3):
            assert await peers(db) == 0
        async with db.write() as uow:
            uow.add(Peer(actor_url="https://a.example/actor", origin="https://a.example"))
        async with db.write() as uow:
            uow.add(Peer(actor_url="https://b.example/actor", origin="https://b.example"))
        for _ in range(3):
            assert await peers(db) == 2
    assert sent == ["PRAGMA query_only=ON", "PRAGMA query_only=OFF", "PRAGMA query_only=ON"]


async def test_a_reading_unit_refuses_to_write_after_a_writing_one(
    one_connection: Database,
) -> None:
    db = one_connection
    async with db.write() as uow:
        uow.add(Peer(actor_url="https://a.example/actor", origin="https://a.example"))
    with pytest.raises(DBAPIError, match="readonly"):
        async with db.read() as uow:
            uow.add(Peer(actor_url="https://b.example/actor", origin="https://b.example"))
            await uow.flush()
    async with db.write() as uow:  # and the next writing unit writes again
        uow.add(Peer(actor_url="https://c.example/actor", origin="https://c.example"))
    assert await peers(db) == 2


async def test_a_connection_back_with_its_transaction_open_is_rolled_back(
    one_connection: Database,
) -> None:
    """Units end their transactions themselves, so the pool rolls back only what is
    still open; a connection must never go back to the pool inside a transaction."""
    db = one_connection
    async with db.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        await driver.execute("BEGIN")
        assert driver.in_transaction
    assert not driver.in_transaction
    async with db.read() as session:  # the pool's one connection begins afresh
        assert await session.scalar(select(func.count()).select_from(Peer)) == 0
