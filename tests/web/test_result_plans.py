"""A resident's twins and suggestions are found through the resident's index, never by
walking a whole generation of a city's results.

SQLite keeps no statistics here, so it picks an index by how much of the question it
matches: the "my twin" page and the refresh after a profile save ask for one
resident's rows with a peer and of the shown generation, which the index by peer and
generation matched as well as the resident's own one did (migration 0011). The plans
are asked of SQLite itself, for the statements the node actually sends; PostgreSQL
plans by its statistics, so an empty database says nothing about it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from matching.profile import InterestProfile
from node.matches._refresh import refresh_residents
from node.matches.appkeys import MATCHING
from node.models import Peer, PeerKey, RemoteProfile, Resident, Suggestion, Twin, utcnow
from node.vectors.stored import stored_form
from support.nodes import RunningNode
from support.statements import sqlite_plans, statements
from support.web import Visitor

EMAIL = "anna@example.org"
RESULTS = (" FROM twins", " FROM suggestions")


@pytest.fixture
def node_overrides() -> dict[str, dict[str, object]]:
    return {"matching": {"k_anonymity": 1}}  # a lone resident's profile is shared


async def results(node: RunningNode) -> int:
    """A partner city with profiles, and a twin and suggestions for the resident."""
    async with node.database.write() as session:
        resident = await session.scalar(select(Resident).where(Resident.email == EMAIL))
        assert resident is not None
        cholet = Peer(actor_url="http://cholet.example/actor", origin="http://cholet.example")
        cholet.name, cholet.state = "Cholet", "reachable"
        session.add(cholet)
        await session.flush()
        session.add(
            PeerKey(
                peer_id=cholet.id,
                key_id=f"{cholet.actor_url}#main-key",
                algorithm="rsa",
                public_key_pem="-",
                fingerprint="SHA256:0",
            )
        )
        remotes = [
            RemoteProfile(
                peer_id=cholet.id,
                actor_url=f"http://cholet.example/p/{n}",
                vector=stored_form(
                    InterestProfile(
                        id=f"urn:x:{n}",
                        kind="person",
                        interests=("music_making.choir", "sport.cycling"),
                        languages={"de": "native", "fr": "fluent"},
                        age_band="30-39",
                    )
                ),
                updated=utcnow(),
            )
            for n in range(3)
        ]
        session.add_all(remotes)
        await session.flush()
        session.add(
            Twin(
                resident_id=resident.id,
                peer_id=cholet.id,
                remote_profile_id=remotes[0].id,
                score=0.9,
            )
        )
        session.add_all(
            Suggestion(
                resident_id=resident.id,
                peer_id=cholet.id,
                remote_profile_id=remote.id,
                rank=rank,
                score=0.9 - rank / 10,
            )
            for rank, remote in enumerate(remotes)
        )
        return resident.id


def by_resident(plan: str) -> bool:
    return "_resident_peer_generation (resident_id=? AND peer_id=? AND generation=?)" in plan


async def test_the_twin_page_and_a_refresh_find_the_residents_rows(node: RunningNode) -> None:
    db = node.database
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's choice of index; PostgreSQL chooses by its statistics")
    async with Visitor(node, language="de") as anna:
        await anna.with_profile(EMAIL)
        resident_id = await results(node)
        with statements(db) as page:
            shown = await anna.get("/twin")
        assert shown.status_code == 200 and "Zwilling" in shown.text
    assert node.app is not None
    with statements(db) as refresh:
        await refresh_residents(db, node.app[MATCHING], [resident_id])

    read, refreshed = (
        await sqlite_plans(db, page, *RESULTS),
        await sqlite_plans(db, refresh, *RESULTS),
    )
    assert len(read) == 2 and all(by_resident(plan) for plan in read), read
    deleted = [plan for plan in refreshed if plan.startswith("DELETE")]
    assert len(deleted) == 1 and by_resident(deleted[0]), refreshed
