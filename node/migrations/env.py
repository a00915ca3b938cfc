"""Alembic environment: runs the migrations over the node's async engine.

The URL comes from the caller (``node.runtime.migrate``) through the Alembic config, never
from a file, so the same migrations serve every node and every backend. All pending
migrations run in one transaction: a failure leaves the database at the revision it had.

On SQLite the migrations run with foreign keys off, and ``PRAGMA foreign_key_check``
must find nothing before the transaction commits (SQLite's own procedure for changing a
table). The node's connections enforce foreign keys, and SQLite changes most of a table
(a column's type, a constraint, a default that is an expression) only by copying it:
create a new table, copy the rows, drop the old one, rename. With foreign keys on,
dropping the old ``residents`` deletes every row that cascades from it — sessions,
contacts, profiles — or fails outright where a key has no ``ON DELETE``. With them off,
the drop takes nothing with it, and the check still refuses a migration that leaves a
row pointing nowhere (one that deleted parents relying on a cascade, say).

Foreign keys off does not save a copied table's triggers (migration 0008 puts some on
``residents``, ``remote_profiles`` and ``peers``): migrations change those tables in place
(``batch_alter_table(..., recreate="never")``), and copy only tables without triggers.

SQLite ignores ``PRAGMA foreign_keys`` inside a transaction, so this module opens the
transaction itself and refuses a SQLite connection that is already in one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from typing import Any

from alembic import context
from alembic.runtime.migration import MigrationContext, MigrationInfo
from sqlalchemy.engine import Connection

from node.models import Base
from node.runtime.db import create_engine

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    if connection.dialect.name != "sqlite":
        _migrate(connection, sqlite=False)
        return
    if connection.in_transaction():
        raise RuntimeError(
            "SQLite migrations switch foreign keys off, which SQLite ignores inside a"
            " transaction: pass a connection that is not in one"
        )
    with _sqlite_foreign_keys_off(connection):
        _migrate(connection, sqlite=True)


def _migrate(connection: Connection, *, sqlite: bool) -> None:
    applied: list[MigrationInfo] = []

    def _applied(
        ctx: MigrationContext,
        step: MigrationInfo,
        heads: Collection[Any],
        run_args: Mapping[str, Any],
    ) -> None:
        applied.append(step)

    # Begun before Alembic is configured, so that Alembic sees it as the caller's and
    # opens none of its own (on SQLite it would otherwise commit after each revision).
    with connection.begin() if not connection.in_transaction() else nullcontext():
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=sqlite,
            compare_type=True,
            on_version_apply=_applied,
        )
        with context.begin_transaction():
            context.run_migrations()
        if sqlite and applied:
            _refuse_dangling_references(connection)


@contextmanager
def _sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    # Sent on the driver connection: a statement through SQLAlchemy would open a
    # transaction first, and SQLite would then ignore the pragma.
    cursor = connection.connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=OFF")
        cursor.execute("PRAGMA foreign_keys")
        row = cursor.fetchone()
        if row is None or row[0] != 0:
            raise RuntimeError("SQLite kept foreign keys on; the migrations did not run")
        yield
    finally:
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
        except Exception:
            # A pooled connection without foreign keys must never serve the node.
            connection.invalidate()
            raise


def _refuse_dangling_references(connection: Connection) -> None:
    """Fail (and so roll back) if a migration left rows whose parent is gone."""
    dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if dangling:
        tables = sorted({f"{row[0]} -> {row[2]}" for row in dangling})
        raise RuntimeError(
            f"the migrations left {len(dangling)} rows pointing at missing parents"
            f" ({', '.join(tables)}); nothing was changed"
        )


async def _run_async(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


def _main() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("node.migrate passes the database URL")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_async(url))


_main()
