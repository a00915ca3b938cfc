"""The thorough pass in short units publishes exactly what the single-unit pass does,
announces each vector in the unit that stores it, and starts again when an edit was
published while it generalised, so the edit is not overwritten with stale data."""

from __future__ import annotations

import random
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, insert, select

from matching.occupations import load_occupations
from matching.taxonomy import load_taxonomy
from node.models import OutboxActivity, Peer, Profile, PublishedVector, Resident
from node.runtime.db import Database, UnitOfWork
from node.vectors import _thorough
from node.vectors.activities import Publisher
from node.vectors.publication import publish_changes
from node.vectors.republication import republish
from support.templates import migrated_database

INTERESTS = ("sport.cycling", "sport.running", "music_making.choir", "outdoors.hiking")


def make_publisher() -> Publisher:
    return Publisher(
        base_url="https://node.example",
        secret=b"test-secret-test-secret-test-secret",
        signing_key=Ed25519PrivateKey.generate(),
        k=3,
        taxonomy=load_taxonomy(),
        occupations=load_occupations(),
    )


async def seed(db: Database, residents: int) -> None:
    rng = random.Random(7)
    async with db.write() as session:
        await session.execute(
            insert(Peer),
            [{"actor_url": "https://peer.example/actor", "origin": "https://peer.example"}],
        )
        await session.execute(
            insert(Resident),
            [
                {
                    "id": i,
                    "email": f"{i}@example.org",
                    "password_hash": "!",
                    "display_name": "x",
                    "kind": "person",
                }
                for i in range(1, residents + 1)
            ],
        )
        await session.execute(
            insert(Profile),
            [
                {
                    "resident_id": i,
                    "interests": sorted(rng.sample(INTERESTS, 2)),
                    "occupation": rng.choice(("23", "25")),
                    "languages": {"de": "native"},
                    "learning": [],
                    "age_band": rng.choice(("30-39", "40-49")),
                    "children_age_bands": [],
                    "about": "",
                    "completed": True,
                }
                for i in range(1, residents + 1)
            ],
        )


async def published(db: Database) -> tuple[dict[int, Any], int]:
    async with db.read() as session:
        rows = (await session.execute(select(PublishedVector))).scalars().all()
        outbox = await session.scalar(select(func.count()).select_from(OutboxActivity))
        return {row.resident_id: row.vector for row in rows}, outbox or 0


async def test_chunked_pass_publishes_what_one_unit_would(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_thorough, "CHUNK", 7)
    await migrated_database(database_url)
    db = Database.open(database_url)
    publisher = make_publisher()
    try:
        await seed(db, 40)
        result = await republish(db, publisher)
        vectors, outbox = await published(db)
        assert set(result.updated) == set(vectors) and vectors
        assert outbox == len(vectors)  # one Update per resident for the one peer
        async with db.write() as session:
            again = await publish_changes(session, publisher, thorough=True)
        assert not again.changed
        assert (await published(db)) == (vectors, outbox)
        assert not (await republish(db, publisher)).changed
    finally:
        await db.dispose()


async def test_an_edit_during_the_pass_is_not_overwritten(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_thorough, "CHUNK", 5)
    await migrated_database(database_url)
    db = Database.open(database_url)
    publisher = make_publisher()
    await seed(db, 30)
    original = _thorough.read
    reads = 0

    async def read_then_edit(session: UnitOfWork) -> _thorough.Snapshot:
        nonlocal reads
        reads += 1
        snapshot = await original(session)
        if reads == 1:
            async with db.write() as writing:
                profile = await writing.get(Profile, 1)
                assert profile is not None
                profile.interests = ["games.chess"]
                profile.paused = True
                await writing.flush()
                await publish_changes(writing, publisher, changed=[1])
        return snapshot

    monkeypatch.setattr(_thorough, "read", read_then_edit)
    try:
        await republish(db, publisher)
        assert reads == 2
        vectors, _ = await published(db)
        assert 1 not in vectors  # paused while the first read was generalised
        async with db.write() as session:
            assert not (await publish_changes(session, publisher, thorough=True)).changed
    finally:
        await db.dispose()
