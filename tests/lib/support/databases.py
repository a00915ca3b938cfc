"""Databases for tests: a SQLite file by default, a fresh PostgreSQL database per test
when ``ZWILLING_TEST_DATABASE_URL`` names a server (CI sets it)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

ENV = "ZWILLING_TEST_DATABASE_URL"


def postgres_server_url() -> str | None:
    return os.environ.get(ENV) or None


@asynccontextmanager
async def fresh_postgres_database(server_url: str) -> AsyncIterator[str]:
    """CREATE a uniquely named database for one test and DROP it afterwards."""
    name = f"zw_{uuid.uuid4().hex[:16]}"
    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@asynccontextmanager
async def scratch_database(directory: Path, name: str = "node") -> AsyncIterator[str]:
    """The database URL a test node should use, on the backend this run tests."""
    server = postgres_server_url()
    if server:
        async with fresh_postgres_database(server) as url:
            yield url
    else:
        yield f"sqlite+aiosqlite:///{directory / f'{name}.db'}"


def triggers(connection: Connection) -> set[str]:
    """Names of the triggers the database holds (SQLite or PostgreSQL)."""
    if connection.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    return {row[0] for row in connection.exec_driver_sql(query)}
