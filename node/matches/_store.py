"""Storing a full computation's results as a new generation, then swapping it in.

See :mod:`node.models.matches` for why results come in generations. For each peer:

1. :func:`start_generation` hands out the next generation number (after
   :func:`drop_hidden` dropped whatever a computation that died half-way left behind);
2. :func:`write_generation` writes the new rows beside the shown ones and makes them
   current in the same step that ends the writing;
3. :func:`drop_hidden` deletes the previous generation, in batches.

PostgreSQL gets the rows through ``COPY`` in its binary format, laid out by NumPy, in the
transaction that then flips the generation: readers keep their snapshot of the old set
until it commits, and a crash rolls all of it back. SQLite has no ``COPY``, and a single
transaction would hold its one write lock for seconds; there the rows go in batches of
JSON texts (built away from the loop) that SQLite unpacks itself (``json_each``), each
batch its own short transaction, invisible to readers until the one-row flip.

Rows of a resident who withdrew (or left) or of a remote profile that vanished while
the computation ran are not written: SQLite checks each batch against the tables inside
its transaction (writers take turns there, and a withdrawal deletes the rows of every
generation); PostgreSQL checks once the rows are in, with the tables of published
vectors and remote profiles locked against changes for that check and the flip, and
deletes what it should not have written. Deletions after that are followed by the triggers of
migration 0008.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import bindparam, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from node.matches._job import MatchOutput, Rows
from node.models import MatchGeneration, Suggestion, Twin
from node.models.base import UTCDateTime
from node.runtime.db import Database

log = logging.getLogger(__name__)

SQLITE_BATCH = 20_000
"""Rows per SQLite transaction: some tens of milliseconds of the write lock each."""
DELETE_BATCH = 20_000
"""Ids per deleting transaction on SQLite, whose write lock stops every other writer."""
POSTGRESQL_DELETE_BATCH = 250_000
"""The same on PostgreSQL, where a delete locks only its rows and readers do not wait:
fewer, larger batches, because each batch also waits its turn on a busy event loop."""
COPY_CHUNK = 100_000
WRITE_ATTEMPTS = 3
"""PostgreSQL: a write that did not get its locks in time (or was chosen to end a
deadlock) is repeated."""

_SUGGESTION_COLUMNS = (
    "resident_id",
    "peer_id",
    "remote_profile_id",
    "rank",
    "score",
    "computed_at",
    "generation",
)
_TWIN_COLUMNS = tuple(c for c in _SUGGESTION_COLUMNS if c != "rank")


async def start_generation(db: Database, peer_id: int) -> int:
    """The number of the generation about to be written (after :func:`drop_hidden`
    removed what an earlier run that died left behind)."""
    async with db.write() as session:
        row = await session.get(MatchGeneration, peer_id)
        if row is None:
            row = MatchGeneration(peer_id=peer_id, current=0, last=0)
            session.add(row)
        row.last += 1
        return row.last


async def drop_hidden(db: Database, peer_id: int) -> int:
    """Delete the peer's rows readers do not see, a batch per transaction; how many.

    A generation is written in one go, so its ids form a range: the batches walk that
    range by id. (Taking "the first 20,000 hidden rows" each time would make every
    batch step over the index entries of the rows deleted before it, which PostgreSQL
    keeps until it vacuums: quadratic.)"""
    async with db.read() as session:
        current = await session.scalar(
            select(MatchGeneration.current).where(MatchGeneration.peer_id == peer_id)
        )
    shown = current or 0
    dropped = 0
    postgresql = db.engine.dialect.name == "postgresql"
    batch = POSTGRESQL_DELETE_BATCH if postgresql else DELETE_BATCH
    for model in (Suggestion, Twin):
        hidden = (model.peer_id == peer_id) & (model.generation != shown)
        async with db.read() as session:
            low, high = (
                await session.execute(select(func.min(model.id), func.max(model.id)).where(hidden))
            ).one()
        if low is None:
            continue
        for start in range(low, high + 1, batch):
            async with db.write() as session:
                result: Any = await session.execute(
                    delete(model).where(model.id >= start, model.id < start + batch, hidden),
                    execution_options={"synchronize_session": False},
                )
            dropped += int(result.rowcount or 0)
    return dropped


async def write_generation(
    db: Database,
    peer_id: int,
    generation: int,
    computed_at: datetime,
    output: MatchOutput,
) -> tuple[int, int]:
    """Write the rows as ``generation`` and make it current; (suggestions, twins) written."""
    if db.engine.dialect.name == "postgresql":
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                return await _write_postgresql(db, peer_id, generation, computed_at, output)
            except Exception as exc:
                if attempt == WRITE_ATTEMPTS or not _worth_repeating(exc):
                    raise
                log.info("writing matches repeated", extra={"peer_id": peer_id, "error": str(exc)})
    return await _write_sqlite(db, peer_id, generation, computed_at, output)


async def _flip(session: AsyncSession, peer_id: int, generation: int, at: datetime) -> None:
    await session.execute(
        update(MatchGeneration)
        .where(MatchGeneration.peer_id == peer_id)
        .values(current=generation, computed_at=at)
    )


# SQLite ------------------------------------------------------------------------------

_SQLITE_SUGGESTIONS = text(
    """
    INSERT INTO suggestions
        (resident_id, peer_id, remote_profile_id, rank, score, computed_at, generation)
    SELECT r.value ->> 0, :peer, r.value ->> 1, r.value ->> 2, r.value ->> 3, :at, :generation
    FROM json_each(:rows) AS r
    WHERE EXISTS (SELECT 1 FROM published_vectors v WHERE v.resident_id = r.value ->> 0)
      AND EXISTS (
        SELECT 1 FROM remote_profiles p WHERE p.id = r.value ->> 1 AND p.peer_id = :peer
      )
    """
).bindparams(bindparam("at", type_=UTCDateTime()))

_SQLITE_TWINS = text(
    """
    INSERT INTO twins (resident_id, peer_id, remote_profile_id, score, computed_at, generation)
    SELECT r.value ->> 0, :peer, r.value ->> 1, r.value ->> 2, :at, :generation
    FROM json_each(:rows) AS r
    WHERE EXISTS (SELECT 1 FROM published_vectors v WHERE v.resident_id = r.value ->> 0)
      AND EXISTS (
        SELECT 1 FROM remote_profiles p WHERE p.id = r.value ->> 1 AND p.peer_id = :peer
      )
    """
).bindparams(bindparam("at", type_=UTCDateTime()))


async def _write_sqlite(
    db: Database, peer_id: int, generation: int, at: datetime, output: MatchOutput
) -> tuple[int, int]:
    suggestion_json = output.suggestion_json or await asyncio.to_thread(
        output.suggestions.json_batches, SQLITE_BATCH, ranked=True
    )
    twin_json = output.twin_json or await asyncio.to_thread(
        output.twins.json_batches, SQLITE_BATCH, ranked=False
    )
    counts = []
    for statement, batches in ((_SQLITE_SUGGESTIONS, suggestion_json), (_SQLITE_TWINS, twin_json)):
        written = 0
        for rows in batches:
            async with db.write() as session:
                result: Any = await session.execute(
                    statement,
                    {"rows": rows, "peer": peer_id, "at": at, "generation": generation},
                )
            written += int(result.rowcount or 0)
        counts.append(written)
    async with db.write() as session:
        await _flip(session, peer_id, generation, at)
    return counts[0], counts[1]


# PostgreSQL --------------------------------------------------------------------------


_REPEATABLE = {"40P01", "55P03"}
"""PostgreSQL's deadlock_detected and lock_not_available."""


def _worth_repeating(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if getattr(seen, "sqlstate", None) in _REPEATABLE:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def _ids(driver: Any, query: str, *args: Any) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Ids as one array value: decoded by the driver in one go, not row by row."""
    values = await driver.fetchval(query, *args) or []
    return await asyncio.to_thread(np.array, values, dtype=np.int64)


async def _write_postgresql(
    db: Database, peer_id: int, generation: int, at: datetime, output: MatchOutput
) -> tuple[int, int]:
    kinds = (
        ("suggestions", output.suggestions, _SUGGESTION_COLUMNS),
        ("twins", output.twins, _TWIN_COLUMNS),
    )
    async with db.write() as session:
        connection = await session.connection()
        await connection.execute(text("SET LOCAL lock_timeout = '10s'"))  # begins it
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        for table, rows, columns in kinds:
            if len(rows):
                await driver.copy_to_table(
                    table,
                    source=_binary_copy(rows, columns, peer_id, generation, at),
                    columns=list(columns),
                    format="binary",
                )
        # Whoever withdrew, left or was deleted at the peer meanwhile could not see rows
        # not yet committed. With both tables locked against changes (for this short
        # check and the flip), what is gone now is gone for good until the commit.
        await session.execute(text("LOCK TABLE published_vectors, remote_profiles IN SHARE MODE"))
        residents = await _ids(driver, "SELECT array_agg(resident_id) FROM published_vectors")
        remote = await _ids(
            driver, "SELECT array_agg(id) FROM remote_profiles WHERE peer_id = $1", peer_id
        )
        counts = []
        for _table, rows, _columns in kinds:
            gone_residents, gone_remote = await asyncio.to_thread(_gone, rows, residents, remote)
            model = Suggestion if _table == "suggestions" else Twin
            for column, gone in (
                (model.resident_id, gone_residents),
                (model.remote_profile_id, gone_remote),
            ):
                if gone:
                    await session.execute(
                        delete(model).where(
                            model.peer_id == peer_id,
                            model.generation == generation,
                            column.in_(gone),
                        )
                    )
            counts.append(
                int(
                    await session.scalar(
                        select(func.count())
                        .select_from(model)
                        .where(model.peer_id == peer_id, model.generation == generation)
                    )
                    or 0
                )
                if gone_residents or gone_remote
                else len(rows)
            )
        await _flip(session, peer_id, generation, at)
    return counts[0], counts[1]


def _gone(
    rows: Rows,
    residents: np.ndarray[Any, np.dtype[np.int64]],
    remote: np.ndarray[Any, np.dtype[np.int64]],
) -> tuple[list[int], list[int]]:
    """Residents and remote profiles of ``rows`` that no longer exist."""
    return (
        np.setdiff1d(rows.resident_id, residents).tolist(),
        np.setdiff1d(rows.remote_profile_id, remote).tolist(),
    )


_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_TRAILER = (-1).to_bytes(2, "big", signed=True)
_TYPES = {
    "resident_id": ">i4",
    "peer_id": ">i4",
    "remote_profile_id": ">i4",
    "rank": ">i4",
    "score": ">f8",
    "computed_at": ">i8",
    "generation": ">i4",
}


async def _binary_copy(
    rows: Rows, columns: Sequence[str], peer_id: int, generation: int, at: datetime
) -> AsyncIterator[bytes]:
    """``rows`` in PostgreSQL's binary ``COPY`` format, a chunk at a time."""
    micros = (at - _PG_EPOCH) // timedelta(microseconds=1)
    constant = {"peer_id": peer_id, "generation": generation, "computed_at": micros}
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for column in columns:
        fields += [(f"{column}.size", ">i4"), (column, _TYPES[column])]
    layout = np.dtype(fields)

    def encode(window: slice) -> bytes:
        values: dict[str, np.ndarray[Any, Any]] = {
            "resident_id": rows.resident_id[window],
            "remote_profile_id": rows.remote_profile_id[window],
            "rank": rows.rank[window],
            "score": rows.score[window],
        }
        chunk = np.empty(len(values["resident_id"]), dtype=layout)
        chunk["count"] = len(columns)
        for column in columns:
            chunk[f"{column}.size"] = np.dtype(_TYPES[column]).itemsize
            chunk[column] = values[column] if column in values else constant[column]
        return chunk.tobytes()

    yield _HEADER
    for start in range(0, len(rows), COPY_CHUNK):
        yield await asyncio.to_thread(encode, slice(start, start + COPY_CHUNK))
    yield _TRAILER
