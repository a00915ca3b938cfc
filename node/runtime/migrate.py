"""Applying and inspecting the Alembic migrations from code (CLI, app start, tests)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parents[1] / "migrations"


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database to ``revision`` over an existing engine."""
    await _run(engine, command.upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Take the database back to ``revision`` (for testing a migration both ways)."""
    await _run(engine, command.downgrade, revision)


async def _run(
    engine: AsyncEngine, step: Callable[[AlembicConfig, str], None], revision: str
) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))

    def _step(connection: Connection) -> None:
        config.attributes["connection"] = connection
        step(config, revision)

    # Not in a transaction: the migrations open their own, after switching SQLite's
    # foreign keys off (see node/migrations/env.py).
    async with engine.connect() as connection:
        await connection.run_sync(_step)


async def current_revision(engine: AsyncEngine) -> str | None:
    def _current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(_current)


def autogenerate(message: str, rev_id: str | None = None) -> None:
    """Write a new revision from the difference between the models and head.

    Development aid: it migrates a throw-away SQLite database to head and lets Alembic
    compare it with the models; review the generated file before committing it.
    """
    import tempfile

    from node.runtime.db import create_engine

    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite+aiosqlite:///{scratch}/scratch.db"

        async def _head() -> None:
            engine = create_engine(url)
            try:
                await upgrade(engine)
            finally:
                await engine.dispose()

        asyncio.run(_head())
        command.revision(alembic_config(url), message=message, autogenerate=True, rev_id=rev_id)


if __name__ == "__main__":
    import sys

    autogenerate(" ".join(sys.argv[1:]) or "change")
