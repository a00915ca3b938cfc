"""SQLite's asyncio driver with one trip to its thread per statement.

aiosqlite runs every call on a sqlite3 connection in a thread of its own, and
SQLAlchemy's adaptation makes four such calls per statement: open a cursor, execute,
fetch the rows, close the cursor. Each is a hand-off from the event loop to that thread
and back, waiting each time for the other side to give up the interpreter lock. Here
one call opens the cursor, executes, fetches up to ``FIRST_ROWS`` rows and, when that
was all, closes the cursor; SQLAlchemy then reads the description, row count, last row
id and rows from what that call brought back. A larger result (a streamed read) keeps
its cursor open and is fetched on demand, as before.

The connection is aiosqlite's (its thread, queue, commit, rollback and functions);
only the cursors it hands out differ. Like SQLAlchemy's own adaptation, this uses
aiosqlite's queue of calls for its thread (``Connection._execute``).
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Sequence
from functools import partial
from typing import Any, TypeVar

import aiosqlite

T = TypeVar("T")

FIRST_ROWS = 1000
"""Rows fetched with the statement itself; a page's reads all fit."""


class Connection(aiosqlite.Connection):
    """aiosqlite's connection, handing out :class:`Cursor`."""

    def cursor(self) -> Cursor:  # type: ignore[override]
        return Cursor(self)


def connect(database: str, **options: Any) -> Connection:
    """A connection to open (await it), as ``aiosqlite.connect`` would make it."""
    connection = Connection(partial(sqlite3.connect, database, **options), iter_chunk_size=64)
    connection._thread.daemon = True  # as SQLAlchemy does: never keep the process alive
    return connection


class Cursor:
    """The part of aiosqlite's cursor that SQLAlchemy uses, a statement a call."""

    arraysize = 1

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._open: sqlite3.Cursor | None = None  # a result not yet fetched to its end
        self._rows: deque[Any] = deque()
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    def __await__(self) -> Generator[Any, None, Cursor]:
        yield from ()
        return self

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Any = None) -> Cursor:
        await self._run(sql, () if parameters is None else parameters, many=False)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> Cursor:
        await self._run(sql, parameters, many=True)
        return self

    async def _run(self, sql: str, parameters: Any, *, many: bool) -> None:
        await self.close()
        connection = self._connection
        outcome = await _on_thread(connection, _statement, connection._conn, sql, parameters, many)
        rows, self.description, self.rowcount, self.lastrowid, self._open = outcome
        self._rows = deque(rows)

    async def fetchone(self) -> Any:
        if not self._rows:
            await self._more(1)
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        wanted = self.arraysize if size is None else size
        if len(self._rows) < wanted:
            await self._more(wanted - len(self._rows))
        return [self._rows.popleft() for _ in range(min(wanted, len(self._rows)))]

    async def fetchall(self) -> Sequence[Any]:
        await self._more(None)
        rows = list(self._rows)
        self._rows.clear()
        return rows

    async def close(self) -> None:
        self._rows.clear()
        if self._open is not None:
            cursor, self._open = self._open, None
            await _on_thread(self._connection, cursor.close)

    async def _more(self, count: int | None) -> None:
        """Rows from an open result: ``count`` of them, or all (then it is closed)."""
        if self._open is None:
            return
        cursor = self._open
        rows, finished = await _on_thread(self._connection, _fetch, cursor, count)
        self._rows.extend(rows)
        if finished:
            self._open = None

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._each()

    async def _each(self) -> AsyncIterator[Any]:
        while (row := await self.fetchone()) is not None:
            yield row


async def _on_thread(connection: aiosqlite.Connection, function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` on the connection's thread, after the calls queued before."""
    result: T = await connection._execute(function, *args)  # type: ignore[no-untyped-call]
    return result


Outcome = tuple[list[Any], Any, int, int | None, sqlite3.Cursor | None]


def _statement(connection: sqlite3.Connection, sql: str, parameters: Any, many: bool) -> Outcome:
    """On the driver's thread: execute, fetch the first rows, and close the cursor unless
    more rows wait."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        rows = cursor.fetchmany(FIRST_ROWS) if cursor.description is not None else []
    except BaseException:
        cursor.close()
        raise
    more = len(rows) == FIRST_ROWS
    outcome = (rows, cursor.description, cursor.rowcount, cursor.lastrowid)
    if not more:
        cursor.close()
    return (*outcome, cursor if more else None)


def _fetch(cursor: sqlite3.Cursor, count: int | None) -> tuple[list[Any], bool]:
    """On the driver's thread: the next ``count`` rows, or all; whether it is finished
    (then the cursor is closed)."""
    rows = cursor.fetchall() if count is None else cursor.fetchmany(count)
    finished = count is None or len(rows) < count
    if finished:
        cursor.close()
    return rows, finished
