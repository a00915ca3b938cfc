"""Migration 0012: partner profiles held before it get their kind from their vector,
in place (the table's triggers stay), and the way back drops only the column."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Integer, MetaData, Table, inspect, text
from sqlalchemy.engine import Connection

from node.runtime import migrate
from node.runtime.db import create_engine
from support.databases import triggers

BEFORE = "0011"
KINDS_BY_URL = {
    "http://cholet.example/p/1": "person",
    "http://cholet.example/p/2": "school_class",
    "http://cholet.example/p/3": "person",
}


def _sample(column: Column[Any]) -> object:
    if isinstance(column.type, Integer):
        return 0
    if isinstance(column.type, DateTime):
        return datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    return "http://cholet.example"


def _hold_profiles(connection: Connection) -> None:
    peers = Table("peers", MetaData(), autoload_with=connection)
    given = {
        "id": 1,
        "actor_url": "http://cholet.example/actor",
        "source": "config",
        "state": "reachable",
        "config_fingerprints": [],
    }
    connection.execute(
        peers.insert().values(
            {
                column.name: given.get(column.name, _sample(column))
                for column in peers.columns
                if not column.nullable
            }
        )
    )
    for number, (url, kind) in enumerate(KINDS_BY_URL.items(), start=1):
        connection.execute(
            text(
                "INSERT INTO remote_profiles (id, peer_id, actor_url, vector, updated,"
                " sequence, dropped_codes, received_at) VALUES (:id, 1, :url, :vector,"
                " '2026-11-30 12:00:00+00:00', 1, 0, '2026-11-30 12:00:00+00:00')"
            ),
            {"id": number, "url": url, "vector": json.dumps({"kind": kind, "interests": []})},
        )


def _kinds(connection: Connection) -> dict[str, str]:
    rows = connection.execute(text("SELECT actor_url, kind FROM remote_profiles"))
    return {url: kind for url, kind in rows}


def _shape(connection: Connection) -> tuple[dict[str, bool], set[str], set[str]]:
    inspector = inspect(connection)
    columns = {c["name"]: c["nullable"] for c in inspector.get_columns("remote_profiles")}
    indexes = {index["name"] or "" for index in inspector.get_indexes("remote_profiles")}
    return columns, indexes, triggers(connection)


async def test_held_profiles_get_their_vectors_kind_and_keep_it_both_ways(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine, BEFORE)
        async with engine.begin() as connection:
            await connection.run_sync(_hold_profiles)

        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(_kinds) == KINDS_BY_URL
            columns, indexes, triggers = await connection.run_sync(_shape)
        assert columns["kind"] is False  # NOT NULL on both backends
        assert "ix_remote_profiles_kind_peer" in indexes
        assert "remote_profiles_drop_matches" in triggers

        await migrate.downgrade(engine, BEFORE)
        async with engine.connect() as connection:
            columns, indexes, triggers = await connection.run_sync(_shape)
            held = (await connection.execute(text("SELECT count(*) FROM remote_profiles"))).one()
        assert "kind" not in columns and "ix_remote_profiles_kind_peer" not in indexes
        assert "remote_profiles_drop_matches" in triggers and held == (3,)

        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(_kinds) == KINDS_BY_URL
    finally:
        await engine.dispose()
