"""The start page's count of partner profiles of the resident's kind follows every way
a profile arrives, changes kind or leaves, and is read from the index of kinds, never
by reading all of a city's profiles (which it did on every visit once)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from matching.profile import InterestProfile, Kind
from node.matches.dashboard import dashboard_state
from node.models import Peer, Resident, utcnow
from node.peer_vectors.reconcile import reconcile
from node.peer_vectors.store import (
    ProfileUpdate,
    VectorStats,
    store_update,
    store_updates,
    store_withdrawal,
)
from node.runtime.db import Database
from support.nodes import RunningNode
from support.statements import sqlite_plans, statements
from support.web import Visitor

EMAIL = "anna@example.org"
CHOLET = "http://cholet.example"


@pytest.fixture
def node_overrides() -> dict[str, dict[str, object]]:
    return {"matching": {"k_anonymity": 1}}  # a lone resident's profile is shared


def profile(n: int, kind: Kind) -> InterestProfile:
    return InterestProfile(
        id=f"{CHOLET}/p/{n}",
        kind=kind,
        interests=("music_making.choir", "sport.cycling"),
        languages={"de": "native", "fr": "fluent"},
        age_band="30-39" if kind == "person" else None,
        updated=utcnow().isoformat(),
    )


async def cholet(db: Database) -> Peer:
    async with db.write() as session:
        peer = Peer(actor_url=f"{CHOLET}/actor", origin=CHOLET)
        peer.name, peer.state = "Cholet", "reachable"
        session.add(peer)
        await session.flush()
        session.expunge(peer)
        return peer


async def counted(db: Database) -> int:
    async with db.read() as session:
        resident = await session.scalar(select(Resident).where(Resident.email == EMAIL))
        assert resident is not None and resident.kind == "person"
        return (await dashboard_state(session, resident)).partner_profiles


async def test_the_count_follows_arrivals_changes_of_kind_and_withdrawals(
    node: RunningNode,
) -> None:
    db, stats = node.database, VectorStats()
    async with Visitor(node, language="en") as anna:
        await anna.with_profile(EMAIL)
        peer = await cholet(db)
        kinds: list[Kind] = ["person", "person", "person", "family", "club"]
        async with db.write() as session:
            await store_updates(
                session,
                [ProfileUpdate(peer, profile(n, kind), 1, 0) for n, kind in enumerate(kinds)],
                stats,
            )
        assert await counted(db) == 3
        page = (await anna.get("/dashboard")).text
        assert "There are 3 profiles of your kind from the partner cities" in page

        # An Update that turns a person into a family, and one that turns a family
        # into a person: the count moves with the kind, not with the number of rows.
        async with db.write() as session:
            assert await store_update(session, peer, profile(0, "family"), 2, 0, stats) == (
                "stored"
            )
        assert await counted(db) == 2
        async with db.write() as session:
            await store_updates(session, [ProfileUpdate(peer, profile(3, "person"), 2, 0)], stats)
        assert await counted(db) == 3

        async with db.write() as session:
            withdrawn = await store_withdrawal(
                session,
                peer,
                f"{CHOLET}/p/1",
                sequence=2,
                deleted=utcnow(),
                actor_deleted=False,
                stats=stats,
            )
        assert withdrawn and await counted(db) == 2

        # A full resync (the bulk path): p/2 becomes a club, p/0 a person again, p/5
        # arrives as a person, p/3 and p/4 are no longer in the set.
        resync = [
            (profile(0, "person"), 3, 0),
            (profile(2, "club"), 3, 0),
            (profile(5, "person"), 1, 0),
        ]
        async with db.write() as session:
            result = await reconcile(session, peer, resync, utcnow() + timedelta(seconds=1), stats)
        assert (result.stored, result.removed) == (3, 2)
        assert await counted(db) == 2
        page = (await anna.get("/dashboard")).text
        assert "There are 2 profiles of your kind from the partner cities" in page


async def test_the_start_page_reads_no_partner_profiles_it_does_not_count(
    node: RunningNode,
) -> None:
    db = node.database
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's choice of plan; PostgreSQL chooses by its statistics")
    async with Visitor(node, language="en") as anna:
        await anna.with_profile(EMAIL)
        peer = await cholet(db)
        async with db.write() as session:
            await store_updates(
                session,
                [ProfileUpdate(peer, profile(n, "person"), 1, 0) for n in range(3)],
                VectorStats(),
            )
        with statements(db) as sent:
            page = await anna.get("/dashboard")
        assert page.status_code == 200 and "There are 3 profiles of your kind" in page.text

    plans = await sqlite_plans(db, sent, "remote_profiles")
    assert plans, "the start page counted no partner profiles"
    assert not any("SCAN remote_profiles" in plan for plan in plans), plans
    assert any("ix_remote_profiles_kind_peer (kind=?)" in plan for plan in plans), plans
