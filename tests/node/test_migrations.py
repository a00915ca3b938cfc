"""Migrations: they run on the backend under test, and the models agree with them."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    func,
    inspect,
    select,
)
from sqlalchemy.engine import Connection

from node.models import Base
from node.runtime import migrate
from node.runtime.db import create_engine
from support.databases import triggers


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


async def test_upgrade_to_head_and_models_match(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == migrate.head_revision()
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert {"residents", "profiles", "peers", "outbox", "inbox"} <= tables
        await migrate.upgrade(engine)  # a second run is a no-op
    finally:
        await engine.dispose()


async def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(tmp_path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        async with engine.connect() as connection:
            journal = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
            foreign = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar()
            busy = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar()
        assert (journal, foreign) == ("wal", 1)
        assert busy >= 5000
    finally:
        await engine.dispose()


# A node that has been in use: one row in every table, each foreign key set.
_BEFORE_NOTIFICATIONS = "0006"
_MATCH_TRIGGERS = {"residents_drop_matches", "remote_profiles_drop_matches", "peers_drop_matches"}


def _value(table: Table, column: Column[Any]) -> object:
    kind = column.type
    if column.foreign_keys:
        return 1  # every parent table's one row
    if isinstance(kind, Boolean):
        return True
    if isinstance(kind, Integer):
        return 1 if column.primary_key else 0
    if isinstance(kind, Float):
        return 0.5
    if isinstance(kind, DateTime):
        return datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    if isinstance(kind, JSON):
        return {}
    if isinstance(kind, String):
        return f"{table.name}.{column.name}"[: kind.length or None]
    raise AssertionError(f"no sample value for {table.name}.{column.name} ({kind!r})")


def _populate(connection: Connection) -> None:
    metadata = MetaData()
    metadata.reflect(connection)
    for table in metadata.sorted_tables:
        if table.name == "alembic_version":
            continue
        row = {
            column.name: _value(table, column)
            for column in table.columns
            if column.foreign_keys or not column.nullable
        }
        connection.execute(table.insert().values(row))


def _contents(connection: Connection) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, as the values of its foreign-key columns (which a cascade
    empties, or ``SET NULL`` clears)."""
    metadata = MetaData()
    metadata.reflect(connection)
    contents: dict[str, list[tuple[object, ...]]] = {}
    for table in metadata.sorted_tables:
        if table.name in {"alembic_version", "match_generations"}:
            continue
        referring = sorted(
            (c for c in table.columns if c.foreign_keys or c.name.endswith("_id")),
            key=lambda c: c.name,
        )
        rows = connection.execute(select(func.count(), *referring).group_by(*referring))
        contents[table.name] = [tuple(row) for row in rows]
    return contents


@pytest.mark.parametrize("start", ["0001", _BEFORE_NOTIFICATIONS])
async def test_upgrading_a_populated_database_keeps_every_row_and_trigger(
    database_url: str, start: str
) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine, start)
        async with engine.begin() as connection:
            await connection.run_sync(_populate)
        async with engine.connect() as connection:
            before = await connection.run_sync(_contents)
        assert all(before.values()) and "login_sessions" in before

        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            after = await connection.run_sync(_contents)
            held_triggers = await connection.run_sync(triggers)
        assert {table: after[table] for table in before} == before
        assert held_triggers >= _MATCH_TRIGGERS

        # ... and the way back and forth again loses none of them either.
        await migrate.downgrade(engine, start)
        async with engine.connect() as connection:
            assert await connection.run_sync(_contents) == before
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            after = await connection.run_sync(_contents)
            assert await connection.run_sync(triggers) >= _MATCH_TRIGGERS
        assert {table: after[table] for table in before} == before
    finally:
        await engine.dispose()


async def test_sqlite_migrations_refuse_rows_left_without_parent(tmp_path: Path) -> None:
    path = tmp_path / "orphan.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await migrate.upgrade(engine, _BEFORE_NOTIFICATIONS)
        # Written without foreign keys, as a migration with them off could leave it.
        with closing(sqlite3.connect(path)) as plain, plain:
            plain.execute(
                "INSERT INTO login_sessions (id, resident_id, csrf_token, created_at,"
                " last_seen_at) VALUES ('s', 99, 'c', '2026-11-30', '2026-11-30')"
            )
        with pytest.raises(RuntimeError, match="login_sessions -> residents"):
            await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == _BEFORE_NOTIFICATIONS
        async with engine.connect() as connection:
            foreign = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar()
            notices = await connection.run_sync(lambda c: inspect(c).has_table("notices"))
        assert (foreign, notices) == (1, False)
    finally:
        await engine.dispose()


async def test_sqlite_migrations_refuse_a_connection_already_in_a_transaction(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    config = migrate.alembic_config(engine.url.render_as_string(hide_password=False))

    def _upgrade(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    try:
        async with engine.begin() as connection:
            with pytest.raises(RuntimeError, match="foreign keys off"):
                await connection.run_sync(_upgrade)
    finally:
        await engine.dispose()
