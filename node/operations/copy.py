"""``zwilling db copy``: a node's whole database into an empty PostgreSQL database.

The source is read in one snapshot (SQLite: one read transaction; PostgreSQL:
``REPEATABLE READ``), so what lands in the target is the database as it was at one
moment even if a node still writes; its later writes are not copied, which is why
the node is stopped for the switch. Tables go parents first
(``Base.metadata.sorted_tables``), each in one target transaction, in batches, with
every column as stored, ids included; then each PostgreSQL sequence is set past its
table's largest id, so the node's next rows do not collide with copied ones. Last,
each table's row count and digest (``node.operations.tables``) are taken on both
sides and compared.

A run that fails leaves the target marked (``_target.MARK``). ``--resume`` keeps the
tables that already match the source (same count, same digest) up to the first that
does not, empties that one and every later one, and copies from there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import Integer, Table, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from node.operations import _target
from node.operations._target import CopyRefused
from node.operations.tables import BATCH_ROWS, Digester, TableDigest, batches, digest, node_tables
from node.runtime import migrate
from node.runtime.db import Database, create_engine

__all__ = ["CopyFailed", "CopyRefused", "TableCheck", "copy_database", "shown"]


class CopyFailed(Exception):
    """The copy stopped part of the way; the target keeps its mark for ``--resume``."""


@dataclass(frozen=True)
class TableCheck:
    source: TableDigest
    target: TableDigest

    @property
    def ok(self) -> bool:
        return self.source == self.target


def shown(url: str) -> str:
    """A database URL as it may be printed: without its password."""
    return make_url(url).render_as_string(hide_password=True)


@asynccontextmanager
async def _snapshot(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    if engine.dialect.name == "sqlite":
        async with Database(engine).read() as uow:
            yield await uow.connection()
        return
    async with engine.connect() as connection:
        snapshot = await connection.execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
        async with snapshot.begin():
            yield snapshot


async def _copy_table(
    source: AsyncConnection, target: AsyncEngine, table: Table, batch_rows: int
) -> TableDigest:
    digester = Digester(table.name)
    async with target.begin() as connection:
        async for partition in batches(source, table, batch_rows):
            rows = [dict(row._mapping) for row in partition]
            await connection.execute(table.insert(), rows)
            for row in partition:
                digester.add(row)
    return digester.result()


async def _set_sequences(target: AsyncEngine) -> None:
    """Each serial id's sequence continues after the largest copied id."""
    async with target.begin() as connection:
        for table in node_tables():
            keys = list(table.primary_key.columns)
            if len(keys) != 1 or not isinstance(keys[0].type, Integer):
                continue
            sequence = (
                await connection.execute(
                    text("SELECT pg_get_serial_sequence(:table, :column)"),
                    {"table": f'"{table.name}"', "column": keys[0].name},
                )
            ).scalar()
            if sequence is None:
                continue
            largest = (await connection.execute(select(func.max(keys[0])))).scalar()
            await connection.execute(
                text("SELECT setval(CAST(:sequence AS regclass), :next, false)"),
                {"sequence": sequence, "next": (largest or 0) + 1},
            )


async def _resume_point(
    source: AsyncConnection, target: AsyncEngine, tables: list[Table]
) -> tuple[int, dict[str, TableDigest]]:
    """The index of the first table the target does not hold completely, and the source
    digests of the complete ones before it."""
    kept: dict[str, TableDigest] = {}
    async with target.connect() as connection:
        for index, table in enumerate(tables):
            wanted = await digest(source, table)
            if await digest(connection, table) != wanted:
                return index, kept
            kept[table.name] = wanted
    return len(tables), kept


async def copy_database(
    source_url: str,
    target_url: str,
    *,
    resume: bool = False,
    batch_rows: int = BATCH_ROWS,
    say: Callable[[str], None] = print,
) -> list[TableCheck]:
    """Copy, then compare every table; the checks are returned whether they pass or not
    (a failed check leaves the mark, so that ``--resume`` can repair it)."""
    if make_url(target_url).get_backend_name() != "postgresql":
        raise CopyRefused("--to must be a PostgreSQL URL (postgresql+asyncpg://user@host/db)")
    if make_url(source_url) == make_url(target_url):
        raise CopyRefused("--to names the node's own database")
    source_engine = create_engine(source_url)
    target = create_engine(target_url)
    try:
        head = migrate.head_revision()
        revision = await migrate.current_revision(source_engine)
        if revision != head:
            raise CopyRefused(
                f"the node's database is at migration {revision or 'none'}, the latest is "
                f"{head}; run 'zwilling db upgrade' first"
            )
        state = await _target.inspect_target(target)
        _target.check_fillable(state, resume=resume)
        if state.migrated_now:
            say(f"target: migrated the empty database to {head}")
        await _target.set_mark(target, shown(source_url))
        resuming = state.partial is not None
        try:
            return await _copy_and_check(source_engine, target, batch_rows, say, resuming)
        except Exception as exc:
            reason = (str(exc).splitlines() or [""])[0]  # a database error adds its SQL
            raise CopyFailed(
                f"copy stopped: {exc.__class__.__name__}: {reason}; the target is marked as a"
                " partial copy: run the same command with --resume"
            ) from exc
    finally:
        await source_engine.dispose()
        await target.dispose()


async def _copy_and_check(
    source_engine: AsyncEngine,
    target: AsyncEngine,
    batch_rows: int,
    say: Callable[[str], None],
    resuming: bool,
) -> list[TableCheck]:
    tables = node_tables()
    async with _snapshot(source_engine) as source:
        start, copied = 0, dict[str, TableDigest]()
        if resuming:
            start, copied = await _resume_point(source, target, tables)
        if 0 < start < len(tables):
            say(f"resuming: {start} tables already complete, copying from {tables[start].name}")
        later = tables[start:]
        if later:
            names = ", ".join(f'"{table.name}"' for table in later)
            async with target.begin() as connection:
                await connection.execute(text(f"TRUNCATE {names}"))
        for table in later:
            copied[table.name] = await _copy_table(source, target, table, batch_rows)
            say(f"copied {table.name}: {copied[table.name].rows} rows")
    await _set_sequences(target)
    checks = []
    async with target.connect() as connection:
        for table in tables:
            checks.append(TableCheck(copied[table.name], await digest(connection, table)))
    if all(check.ok for check in checks):
        await _target.clear_mark(target)
    return checks
