"""What ``zwilling db copy`` finds in the database it is asked to fill, and the mark it
leaves there while a copy is unfinished.

The mark is a table of its own, ``zwilling_copy``, outside the node's models: it is
created before the first row is copied and dropped once every table verified. A
target with rows and no mark is someone's live database and is never touched; a
target with the mark holds a partial copy made by this command, which ``--resume``
may complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, DateTime, MetaData, String, Table, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from node.models import utcnow
from node.operations.tables import node_tables, row_count
from node.runtime import migrate

MARK = Table(
    "zwilling_copy",
    MetaData(),
    Column("source", String(500), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
)


class CopyRefused(Exception):
    """The target is not one this command may fill; the message says why, in one line."""


@dataclass(frozen=True)
class Partial:
    source: str
    started_at: datetime


@dataclass(frozen=True)
class TargetState:
    migrated_now: bool
    partial: Partial | None
    rows: dict[str, int]  # tables that hold rows, with their counts


def _table_names(connection: Connection) -> list[str]:
    return list(inspect(connection).get_table_names())


async def inspect_target(engine: AsyncEngine) -> TargetState:
    """Migrate an empty target to the latest revision; refuse one at another revision."""
    head = migrate.head_revision()
    async with engine.connect() as connection:
        names = set(await connection.run_sync(_table_names))
    migrated_now = False
    if not names:
        await migrate.upgrade(engine)
        migrated_now = True
    elif "alembic_version" not in names:
        listed = ", ".join(sorted(names)[:5])
        raise CopyRefused(f"target database has tables ({listed}) but no migration revision")
    else:
        revision = await migrate.current_revision(engine)
        if revision != head:
            raise CopyRefused(
                f"target database is at migration {revision or 'none'}, this node's is {head};"
                " give it an empty database or one migrated with 'zwilling db upgrade'"
            )
    async with engine.connect() as connection:
        partial = None
        if MARK.name in names:
            mark = (await connection.execute(select(MARK))).first()
            if mark is not None:
                partial = Partial(mark.source, mark.started_at)
        rows = {}
        for table in node_tables():
            count = await row_count(connection, table)
            if count:
                rows[table.name] = count
    return TargetState(migrated_now, partial, rows)


def check_fillable(state: TargetState, *, resume: bool) -> None:
    if state.partial is not None and not resume:
        started = state.partial.started_at.isoformat(timespec="seconds")
        raise CopyRefused(
            f"target database holds an unfinished 'zwilling db copy' from {state.partial.source}"
            f" (started {started}); run the same command with --resume to complete it"
        )
    if state.partial is None and state.rows:
        listed = ", ".join(f"{name}: {count}" for name, count in list(state.rows.items())[:4])
        raise CopyRefused(
            f"target database is not empty ({listed}); db copy fills only an empty database"
        )


async def set_mark(engine: AsyncEngine, source: str) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(MARK.create, checkfirst=True)
        if (await connection.execute(select(MARK))).first() is None:
            await connection.execute(MARK.insert().values(source=source, started_at=utcnow()))


async def clear_mark(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(MARK.drop, checkfirst=True)
