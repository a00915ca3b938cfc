"""A resync's bulk writes keep the rules of single updates, on the backend under test
(PostgreSQL writes through COPY, SQLite through executemany): a newer sequence
replaces the held vector, an older or equal one leaves it, what the peer no longer
has is removed and tombstoned, and a tombstone blocks what it withdrew."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from matching.profile import InterestProfile
from node.models import Peer, RemoteProfile, Tombstone, utcnow
from node.peer_vectors.reconcile import reconcile
from node.peer_vectors.store import VectorStats
from node.runtime.db import Database
from support.templates import migrated_database

ORIGIN = "https://cholet.example"


def profile(n: int, *interests: str) -> InterestProfile:
    return InterestProfile(
        id=f"{ORIGIN}/p/{n:064x}",
        kind="person",
        interests=interests or ("sport.cycling",),
        occupation="23",
        languages={"fr": "native"},
        learning=(),
        age_band="30-39",
        children_age_bands=(),
        updated="2026-11-30T00:00:00Z",
    )


async def held(db: Database) -> dict[str, tuple[int, dict[str, Any]]]:
    async with db.read() as session:
        rows = (await session.scalars(select(RemoteProfile))).all()
        return {row.actor_url: (row.sequence, row.vector) for row in rows}


async def test_bulk_reconcile_replaces_keeps_removes_and_blocks(database_url: str) -> None:
    await migrated_database(database_url)
    db = Database.open(database_url)
    try:
        async with db.write() as session:
            peer = Peer(actor_url=f"{ORIGIN}/actor", origin=ORIGIN)
            session.add(peer)
            await session.flush()
            session.add(
                Tombstone(actor_url=profile(9).id, peer_id=peer.id, deleted=utcnow(), sequence=5)
            )
        stats = VectorStats()
        first = [(profile(n), 3, 0) for n in range(1, 4)] + [(profile(9), 5, 0)]
        async with db.write() as session:
            peer = await session.get(Peer, peer.id)
            assert peer is not None
            result = await reconcile(session, peer, first, utcnow(), stats)
        assert (result.stored, result.blocked) == (3, 1)
        assert set(await held(db)) == {profile(n).id for n in range(1, 4)}

        second = [
            (profile(1, "music_making.choir"), 4, 0),  # newer: replaces
            (profile(2, "music_making.choir"), 3, 0),  # same sequence: kept as held
            (profile(4), 1, 0),  # new
        ]
        later = utcnow() + timedelta(seconds=1)
        async with db.write() as session:
            peer = await session.get(Peer, peer.id)
            assert peer is not None
            result = await reconcile(session, peer, second, later, stats)
        assert (result.stored, result.unchanged, result.removed) == (2, 1, 1)
        now_held = await held(db)
        assert set(now_held) == {profile(n).id for n in (1, 2, 4)}
        assert now_held[profile(1).id] == (4, now_held[profile(1).id][1])
        assert now_held[profile(1).id][1]["interests"] == ["music_making.choir"]
        assert now_held[profile(2).id][1]["interests"] == ["sport.cycling"]
        async with db.read() as session:
            gone = await session.get(Tombstone, profile(3).id)
            assert gone is not None and gone.sequence == 3

        async with db.write() as session:  # the withdrawn profile, sent again, stays out
            peer = await session.get(Peer, peer.id)
            assert peer is not None
            result = await reconcile(session, peer, [*second, (profile(3), 3, 0)], later, stats)
        assert result.blocked == 1
        assert profile(3).id not in await held(db)
    finally:
        await db.dispose()
