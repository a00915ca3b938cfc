"""SQLite's driver makes one trip to its thread per statement, and SQLAlchemy sees what
the plain driver would show: rows, description, row counts, last row ids, errors, and
results larger than one trip streamed in order."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from node.runtime import _sqlite_driver
from node.runtime.db import Database, create_engine


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(create_engine(f"sqlite+aiosqlite:///{tmp_path / 'node.db'}"))
    async with database.write() as uow:
        await uow.execute(text("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    yield database
    await database.dispose()


@contextmanager
def trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The calls the cursors queue for the driver's thread: a statement's text, or the
    name of the function."""
    made: list[str] = []
    queue = _sqlite_driver._on_thread

    async def counted(connection: Any, function: Any, *args: Any) -> Any:
        statement = function is _sqlite_driver._statement
        made.append(args[1] if statement else getattr(function, "__name__", repr(function)))
        return await queue(connection, function, *args)

    monkeypatch.setattr(_sqlite_driver, "_on_thread", counted)
    yield made


async def test_a_statement_is_one_trip(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    async with db.write() as uow:
        await uow.execute(text("INSERT INTO item (name) VALUES ('a'), ('b'), ('c')"))
    with trips(monkeypatch) as made:
        async with db.read() as uow:
            names = (await uow.scalars(text("SELECT name FROM item ORDER BY id"))).all()
    assert names == ["a", "b", "c"]
    # The switch to reading (the last unit wrote), BEGIN, then the query with its rows;
    # the rollback is the connection's own call.
    assert made == ["PRAGMA query_only=ON", "BEGIN", "SELECT name FROM item ORDER BY id"]


async def test_counts_and_last_row_id_are_the_drivers(db: Database) -> None:
    async with db.write() as uow:
        inserted = await uow.execute(text("INSERT INTO item (name) VALUES ('a')"))
        assert inserted.lastrowid == 1
        await uow.execute(text("INSERT INTO item (name) VALUES ('b'), ('c')"))
        updated = await uow.execute(text("UPDATE item SET name = name || '!' WHERE id > 1"))
        assert updated.rowcount == 2
        many = await uow.execute(
            text("INSERT INTO item (name) VALUES (:name)"), [{"name": "d"}, {"name": "e"}]
        )
        assert many.rowcount == 2
        returned = await uow.execute(text("DELETE FROM item WHERE id = 1 RETURNING name"))
        assert list(returned.keys()) == ["name"] and returned.scalars().all() == ["a"]


async def test_an_error_is_sqlalchemys_and_the_connection_goes_on(db: Database) -> None:
    async with db.write() as uow:
        await uow.execute(text("INSERT INTO item (name) VALUES ('a')"))
    with pytest.raises(IntegrityError):
        async with db.write() as uow:
            await uow.execute(text("INSERT INTO item (name) VALUES ('a')"))
    async with db.read() as uow:
        assert await uow.scalar(text("SELECT count(*) FROM item")) == 1


async def test_a_large_result_streams_in_order(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = 2 * _sqlite_driver.FIRST_ROWS + 7
    async with db.write() as uow:
        await uow.execute(
            text("INSERT INTO item (name) VALUES (:name)"),
            [{"name": f"n{i:05d}"} for i in range(count)],
        )
    with trips(monkeypatch) as made:
        async with db.read() as uow:
            streamed = await uow.stream_scalars(
                text("SELECT name FROM item ORDER BY id").execution_options(yield_per=300)
            )
            names = [name async for name in streamed]
    assert names == [f"n{i:05d}" for i in range(count)]
    query = "SELECT name FROM item ORDER BY id"
    assert made[: made.index(query) + 1] == ["PRAGMA query_only=ON", "BEGIN", query]
    assert set(made[made.index(query) + 1 :]) == {"_fetch"}
    async with db.read() as uow:
        whole = (await uow.scalars(text("SELECT name FROM item ORDER BY id"))).all()
    assert whole == names
