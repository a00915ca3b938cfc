"""Every table of a node, read in an order and a form that SQLite and PostgreSQL agree
on, so that a copy can be checked row for row without trusting either driver.

A table's digest is SHA-256 over its rows in primary-key order, one canonical JSON
line per row. The values are the ones the models' types give back (aware UTC
datetimes, parsed JSON, ``bool``), written the same way whatever stored them:
datetimes as ISO 8601 in UTC with microseconds, JSON with sorted keys, floats by
``repr``. Text keys are ordered bytewise on both sides (SQLite's BINARY collation,
PostgreSQL's ``"C"``), so the order does not depend on the server's locale.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, String, Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from node.models import Base

BATCH_ROWS = 1000


def node_tables() -> list[Table]:
    """The node's tables, parents before the tables that refer to them."""
    return list(Base.metadata.sorted_tables)


def key_order(table: Table, dialect: str) -> list[ColumnElement[Any]]:
    order: list[ColumnElement[Any]] = []
    for column in table.primary_key.columns:
        if dialect == "postgresql" and isinstance(column.type, String):
            order.append(column.collate("C"))
        else:
            order.append(column)
    return order


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def row_line(row: Sequence[Any]) -> bytes:
    """One row as the canonical line the digest is taken over."""
    plain = [_plain(value) for value in row]
    return json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class TableDigest:
    table: str
    rows: int
    sha256: str


class Digester:
    """Feeds rows one at a time (the copy digests what it streams to the target)."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.rows = 0
        self._hash = hashlib.sha256()

    def add(self, row: Sequence[Any]) -> None:
        self._hash.update(row_line(row))
        self._hash.update(b"\n")
        self.rows += 1

    def result(self) -> TableDigest:
        return TableDigest(self.table, self.rows, self._hash.hexdigest())


async def batches(
    connection: AsyncConnection, table: Table, size: int = BATCH_ROWS
) -> AsyncIterator[Sequence[Row[Any]]]:
    """The table's rows in primary-key order, ``size`` at a time (a server-side cursor:
    a large table is never held in memory whole)."""
    query = select(table).order_by(*key_order(table, connection.dialect.name))
    result = await connection.stream(query)
    async for partition in result.partitions(size):
        yield partition


async def digest(connection: AsyncConnection, table: Table) -> TableDigest:
    digester = Digester(table.name)
    async for partition in batches(connection, table):
        for row in partition:
            digester.add(row)
    return digester.result()


async def row_count(connection: AsyncConnection, table: Table) -> int:
    return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())
