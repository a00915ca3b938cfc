"""What a node sends to its database while a test looks, and how SQLite would run it.

Page tests assert on the statements a request really sends (that a view only reads,
that a query finds its rows by an index), not on what the code seems to say.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from node.runtime.db import Database


@contextmanager
def statements(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """Every statement sent while the block runs, on one line, with its parameters."""
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        sent.append((" ".join(statement.split()), parameters))

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def sqlite_plans(db: Database, sent: list[tuple[str, Any]], *tables: str) -> list[str]:
    """SQLite's plan of each sent statement that names one of ``tables``, a line each."""
    found = []
    async with db.read() as session:
        connection = await session.connection()
        for statement, parameters in sent:
            if not any(table in statement for table in tables):
                continue
            rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            found.append(f"{statement[:60]}… → " + " / ".join(str(row[-1]) for row in rows))
    return found
