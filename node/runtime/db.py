"""The node's database: SQLite (embedded default) or PostgreSQL (asyncpg), and the
units of work every caller — page, inbox handler, worker, CLI — runs in.

``Database.write()`` is the one way to change data: a transaction that commits on
success, rolls back on any exception, and only after a successful commit hands
the domain events recorded on it to their subscribers (wake delivery, refresh
suggestions, send mail). ``Database.read()`` is for pages and lookups that only
read: it never takes the write lock (and SQLite refuses a write in it).

On SQLite a writing unit opens with ``BEGIN IMMEDIATE``: taking the write lock at
the start avoids two readers that both later want to write deadlocking, and the
busy timeout makes the second writer wait instead of failing. A reading unit opens
a deferred transaction, which in WAL mode sees a consistent snapshot while a writer
is busy, so page views never queue behind writes.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import PoolResetState

from node.runtime import _sqlite_driver
from node.runtime.events import DomainEvents
from node.runtime.files import PRIVATE_FILE, private_directory, private_file

SQLITE_BUSY_TIMEOUT_MS = 10_000
_UNIT = "zwilling_unit"


class UnitOfWork(AsyncSession):
    """One open transaction, and the domain events to publish once it has committed.

    Node services take it as their first argument and never commit; pages hold one
    and hand it on (``web`` imports no SQLAlchemy).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recorded: list[object] = []

    def record(self, event: object) -> None:
        """Publish ``event`` to its subscribers after this unit commits (never if not)."""
        self.recorded.append(event)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str) -> AsyncEngine:
    """An async engine with the per-backend settings the node relies on.

    Statement parameters carry residents' names and messages, so they are kept out
    of logs and out of the text of database errors (which end up in logs and in the
    inbox's ``last_error``): ``hide_parameters``, and the SQLite driver's own debug
    log (it prints every call with its arguments) stays off.
    """
    if is_sqlite(url):
        logging.getLogger("aiosqlite").setLevel(logging.INFO)
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            _private_database_file(Path(database))
        engine = create_async_engine(
            url,
            hide_parameters=True,
            async_creator=_sqlite_connector(url),
            pool_reset_on_return=None,  # _sqlite_reset instead
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        event.listen(engine.sync_engine.pool, "reset", _sqlite_reset)
        return engine
    return create_async_engine(
        url, hide_parameters=True, pool_pre_ping=True, pool_size=10, max_overflow=10
    )


def _sqlite_connector(url: str) -> Callable[[], _sqlite_driver.Connection]:
    """Opens the database of ``url`` as SQLAlchemy would (same file, same options), with
    the driver that makes one trip to its thread per statement instead of four."""
    parsed = make_url(url)
    (filename,), options = parsed.get_dialect()().create_connect_args(parsed)
    return partial(
        _sqlite_driver.connect, filename, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, **options
    )


def _private_database_file(path: Path) -> None:
    """The directory 0700 and the file 0600 before SQLite opens it: SQLite gives its
    ``-wal``, ``-shm`` and ``-journal`` files the database file's mode, so creating the
    (empty, hence valid) file first makes all of them private whatever the umask.
    An existing file readable by others is narrowed to its owner."""
    private_directory(path.parent)
    if private_file(path):
        return
    for each in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))):
        try:
            mode = each.stat().st_mode & 0o777
            if mode & 0o077:
                os.chmod(each, mode & PRIVATE_FILE)
        except OSError:
            continue  # absent, or not ours: SQLite reports what matters when it opens


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling is switched off so that BEGIN is ours
    # (see _sqlite_begin); otherwise SAVEPOINT and locking misbehave.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted rows (an erased resident's name, a purged activity) are overwritten with
    # zeros instead of lingering in free pages of the file.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


_QUERY_ONLY = "zwilling_query_only"


def _sqlite_begin(connection: Any) -> None:
    # Every statement is a round trip to the driver's thread; the pragma is sent only
    # when the unit's kind differs from the last one on this connection (``info``
    # lives as long as the driver connection, which keeps the setting).
    reading = connection.get_execution_options().get(_UNIT) == "read"
    if connection.info.get(_QUERY_ONLY) is not reading:
        connection.exec_driver_sql(f"PRAGMA query_only={'ON' if reading else 'OFF'}")
        connection.info[_QUERY_ONLY] = reading
    connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def _sqlite_reset(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
    # A unit of work ends its transaction before its connection goes back to the pool,
    # and the pool's own rollback after it was a second round trip to the driver's
    # thread for every unit. Only a transaction still open (a unit cut short by a
    # cancellation, say) is rolled back here.
    if not state.terminate_only and dbapi_connection.driver_connection.in_transaction:
        dbapi_connection.rollback()


class Database:
    """An engine and the two kinds of unit of work over it."""

    def __init__(self, engine: AsyncEngine, events: DomainEvents | None = None) -> None:
        self.engine = engine
        self.events = events if events is not None else DomainEvents()
        self.last_write_failure: float | None = None
        if engine.dialect.name == "sqlite":
            writing = engine.execution_options(**{_UNIT: "write"})
            reading = engine.execution_options(**{_UNIT: "read"})
        else:
            # PostgreSQL readers never wait for writers; a handler's check may lock rows.
            writing = reading = engine
        self._writers = async_sessionmaker(writing, class_=UnitOfWork, expire_on_commit=False)
        self._readers = async_sessionmaker(reading, class_=UnitOfWork, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, events: DomainEvents | None = None) -> Database:
        return cls(create_engine(url), events)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[UnitOfWork]:
        """A writing unit of work; its events are published after it commits.

        When the database refused a write is remembered (``last_write_failure``): a
        full disk or a lost server fails writes while reads still answer (and on a
        full disk some writes still fit), and the health check must tell that apart."""
        try:
            async with self._writers() as uow:
                async with uow.begin():
                    yield uow
                recorded = list(uow.recorded)
        except OperationalError:
            self.last_write_failure = time.time()
            raise
        await self.events.publish(recorded)

    def writes_failing(self, within_seconds: float) -> bool:
        """Whether a write failed for want of storage in the last ``within_seconds``."""
        failed = self.last_write_failure
        return failed is not None and time.time() - failed < within_seconds

    @asynccontextmanager
    async def read(self) -> AsyncIterator[UnitOfWork]:
        """A read-only unit of work: a consistent snapshot, no write lock."""
        async with self._readers() as uow:
            yield uow  # closing the session rolls the snapshot back

    async def ping(self) -> None:
        """Raise unless the database answers a trivial query."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def is_storage_trouble(exc: BaseException) -> bool:
    """Whether ``exc`` is the database failing (disk full, locked too long, server
    gone) rather than a bug: the answer is then "come back later", not an error."""
    return isinstance(exc, OperationalError)
