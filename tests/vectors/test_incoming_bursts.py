"""Bursts of profile ``Update``\\s: the inbox stores concurrent arrivals in batches, and
the profile handler applies a batch's updates together. Whatever the batches turn out
to be, the rules of one update at a time hold: the highest sequence number wins, a
tombstone blocks what it blocks, a refused update answers its own status and stores
nothing. Runs on SQLite, and on PostgreSQL when ``ZWILLING_TEST_DATABASE_URL`` is set.

Whether two requests share a batch is up to the timing of the burst, so the handler's
``apply_all`` is also called directly, where its batch is certain: same outcomes as
``apply`` one after the other, in as many statements for forty updates as for four.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import event, select

from federation.proofs import create_proof
from node.federation.handlers import InboxContext
from node.models import InboxActivity, Peer, RemoteProfile, Tombstone
from node.peer_vectors.appkeys import VECTOR_STATS
from node.peer_vectors.handlers import ProfileUpdates
from node.peer_vectors.store import VectorStats
from node.runtime import appkeys
from node.runtime.db import UnitOfWork
from support.federation import FAST, signed
from support.nodes import RunningNode, node_pair
from support.population import acquainted, peer_id

pytestmark = pytest.mark.asyncio(loop_scope="module")

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

Pair = tuple[RunningNode, RunningNode]


def stamp(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def actor_url(cholet: RunningNode, pseudonym: str | None = None) -> str:
    return f"{cholet.url}/p/{pseudonym or secrets.token_hex(32)}"


def vector(actor: str, sequence: int, **fields: Any) -> dict[str, Any]:
    return {
        "type": "InterestProfile",
        "id": actor,
        "kind": "person",
        "interests": ["music_making.choir", "sport.cycling"],
        "occupation": "23",
        "languages": {"de": "B2", "fr": "native"},
        "learning": ["de"],
        "ageBand": "30-39",
        "childrenAgeBands": [],
        "updated": stamp(sequence),
        "sequence": sequence,
        **fields,
    }


def activity(
    cholet: RunningNode, kind: str, target: dict[str, Any], *, proof: bool = True
) -> dict[str, Any]:
    document = {
        "@context": ["https://www.w3.org/ns/activitystreams"],
        "id": f"{cholet.url}/activities/{uuid.uuid4()}",
        "type": kind,
        "actor": target["id"],
        "to": [peer.actor_url for peer in cholet.config.peers],
        "object": target,
    }
    if not proof:
        return document
    return create_proof(document, cholet.keys.ed25519, f"{cholet.config.actor_url}#ed25519-key")


def update(cholet: RunningNode, actor: str, sequence: int, **fields: Any) -> dict[str, Any]:
    return activity(cholet, "Update", vector(actor, sequence, **fields))


def withdrawal(
    cholet: RunningNode, actor: str, sequence: int, former: str = "InterestProfile"
) -> dict[str, Any]:
    target = {
        "type": "Tombstone",
        "id": actor,
        "formerType": former,
        "deleted": stamp(sequence),
        "sequence": sequence,
    }
    return activity(cholet, "Delete", target)


async def burst(pair: Pair, documents: list[dict[str, Any]]) -> list[int]:
    """All POSTs at once, each on a connection of its own; their status codes in order."""
    oldenburg, cholet = pair
    inbox = f"{oldenburg.url}/inbox"
    requests = [signed(inbox, document, signer=cholet) for document in documents]
    limits = httpx.Limits(max_connections=len(requests))
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        responses = await asyncio.gather(
            *(http.post(inbox, content=body, headers=headers) for headers, body in requests)
        )
    return [response.status_code for response in responses]


async def held(node: RunningNode, actors: list[str]) -> dict[str, tuple[int, datetime]]:
    """Actor URL → (sequence, updated) of the vectors ``node`` holds among ``actors``."""
    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as session:
        rows = await session.execute(
            select(RemoteProfile.actor_url, RemoteProfile.sequence, RemoteProfile.updated).where(
                RemoteProfile.actor_url.in_(actors)
            )
        )
        return {actor: (sequence, updated) for actor, sequence, updated in rows}


async def tombstones(node: RunningNode, actors: list[str]) -> dict[str, tuple[int, bool]]:
    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as session:
        rows = await session.execute(
            select(Tombstone.actor_url, Tombstone.sequence, Tombstone.actor_deleted).where(
                Tombstone.actor_url.in_(actors)
            )
        )
        return {actor: (sequence, deleted) for actor, sequence, deleted in rows}


async def inbox_states(node: RunningNode, documents: list[dict[str, Any]]) -> dict[str, str]:
    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as session:
        rows = await session.execute(
            select(InboxActivity.activity_id, InboxActivity.state).where(
                InboxActivity.activity_id.in_([d["id"] for d in documents])
            )
        )
        return {activity_id: state for activity_id, state in rows}


def same_moment(value: datetime, sequence: int) -> bool:
    moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return moment == T0 + timedelta(minutes=sequence)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def pair(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pair]:
    directory: Path = tmp_path_factory.mktemp("bursts")
    async with node_pair(directory, extensions=[], overrides=FAST) as (oldenburg, cholet):
        await acquainted(oldenburg, cholet)
        yield oldenburg, cholet


async def test_a_burst_for_many_pseudonyms_stores_each(pair: Pair) -> None:
    oldenburg, cholet = pair
    actors = [actor_url(cholet) for _ in range(40)]
    documents = [update(cholet, actor, 1) for actor in actors]
    assert await burst(pair, documents) == [202] * len(documents)
    assert set(await held(oldenburg, actors)) == set(actors)
    assert set((await inbox_states(oldenburg, documents)).values()) == {"applied"}


async def test_the_highest_sequence_wins_whatever_the_order_of_arrival(pair: Pair) -> None:
    oldenburg, cholet = pair
    rng = random.Random(15)
    actors = [actor_url(cholet) for _ in range(4)]
    documents = [update(cholet, actor, sequence) for actor in actors for sequence in range(1, 9)]
    rng.shuffle(documents)
    assert await burst(pair, documents) == [202] * len(documents)
    found = await held(oldenburg, actors)
    assert {actor: sequence for actor, (sequence, _) in found.items()} == dict.fromkeys(actors, 8)
    assert all(same_moment(updated, 8) for _, updated in found.values())

    # A later burst of older copies changes nothing.
    late = [update(cholet, actor, sequence) for actor in actors for sequence in (3, 8, 7)]
    assert await burst(pair, late) == [202] * len(late)
    again = await held(oldenburg, actors)
    assert {actor: sequence for actor, (sequence, _) in again.items()} == dict.fromkeys(actors, 8)


async def test_tombstones_block_what_they_block_in_a_burst(pair: Pair) -> None:
    oldenburg, cholet = pair
    gone, paused = actor_url(cholet), actor_url(cholet)
    for document in (withdrawal(cholet, gone, 2, "Person"), withdrawal(cholet, paused, 5)):
        assert await burst(pair, [document]) == [202]

    documents = [update(cholet, gone, sequence) for sequence in (3, 9, 1)]
    documents += [update(cholet, paused, sequence) for sequence in (4, 7, 5, 6)]
    assert await burst(pair, documents) == [202] * len(documents)

    found = await held(oldenburg, [gone, paused])
    assert gone not in found  # a deleted actor stays deleted, whatever its sequence
    assert found[paused][0] == 7  # resumed: the newer update replaced the withdrawal
    assert await tombstones(oldenburg, [gone, paused]) == {gone: (2, True)}


async def test_refused_updates_in_a_burst_answer_their_own_status(pair: Pair) -> None:
    oldenburg, cholet = pair
    actors = [actor_url(cholet) for _ in range(8)]
    good = [update(cholet, actor, 1) for actor in actors]
    foreign_actor = "https://elsewhere.example/p/" + secrets.token_hex(32)
    malformed, foreign = actor_url(cholet), update(cholet, foreign_actor, 1)
    unsigned = activity(cholet, "Update", vector(actor_url(cholet), 1), proof=False)
    refused = [update(cholet, malformed, 1, ageBand="ancient"), foreign, unsigned]
    statuses = await burst(pair, [*good[:4], *refused, *good[4:]])
    assert statuses == [202] * 4 + [400, 403, 403] + [202] * 4
    assert set(await held(oldenburg, actors)) == set(actors)
    refused_actors = [malformed, foreign_actor, unsigned["object"]["id"]]
    assert await held(oldenburg, refused_actors) == {}
    assert await inbox_states(oldenburg, refused) == {}


@asynccontextmanager
async def counted_statements(session: UnitOfWork) -> AsyncIterator[list[str]]:
    """The SQL statements ``session`` runs while the block runs."""
    connection = (await session.connection()).sync_connection
    assert connection is not None
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(connection, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", count)


def contexts(
    node: RunningNode, session: UnitOfWork, peer: Peer, documents: list[dict[str, Any]]
) -> list[InboxContext]:
    assert node.app is not None
    return [
        InboxContext(
            session=session,
            activity=document,
            peer=peer,
            app=node.app,
            received_at=datetime.now(UTC),
        )
        for document in documents
    ]


async def apply_together(
    node: RunningNode, other: RunningNode, documents: list[dict[str, Any]]
) -> tuple[int, list[object]]:
    """``apply_all`` over ``documents`` in one unit: statements run, events recorded."""
    assert node.app is not None
    sender = await peer_id(node, other)
    async with node.app[appkeys.DATABASE].write() as session:
        peer = await session.get(Peer, sender)
        assert peer is not None
        async with counted_statements(session) as statements:
            await ProfileUpdates().apply_all(contexts(node, session, peer, documents))
        recorded = list(session.recorded)
    return len(statements), recorded


async def rule_cases(pair: Pair, fresh: int) -> tuple[list[dict[str, Any]], list[str]]:
    """A batch meeting every rule once, then ``fresh`` new pseudonyms; and its actors:
    one with a vector held, one withdrawn, one deleted, one new."""
    _, cholet = pair
    kept, paused, gone, newcomer = (actor_url(cholet) for _ in range(4))
    for document in (
        update(cholet, kept, 4),
        withdrawal(cholet, paused, 5),
        withdrawal(cholet, gone, 1, "Person"),
    ):
        assert await burst(pair, [document]) == [202]
    documents = [
        update(cholet, kept, 3),  # stale
        update(cholet, kept, 6),  # stored
        update(cholet, kept, 5),  # stale now: 6 came first in this batch
        update(cholet, paused, 5),  # tombstoned: not newer than the withdrawal
        update(cholet, paused, 6),  # stored, the withdrawal goes
        update(cholet, paused, 5),  # stale, no longer tombstoned
        update(cholet, gone, 7),  # tombstoned for good
        update(cholet, newcomer, 2),  # stored, new
        update(cholet, newcomer, 3),  # stored over the row this batch added
        *(update(cholet, actor_url(cholet), 1) for _ in range(fresh)),
    ]
    return documents, [kept, paused, gone, newcomer]


async def test_apply_all_keeps_the_rules_in_a_constant_number_of_statements(pair: Pair) -> None:
    oldenburg, cholet = pair
    assert oldenburg.app is not None
    stats = oldenburg.app[VECTOR_STATS]
    small, _ = await rule_cases(pair, 0)
    small_count, _ = await apply_together(oldenburg, cholet, small)

    large, actors = await rule_cases(pair, 31)
    kept, paused, gone, newcomer = actors
    before = VectorStats(**vars(stats))
    large_count, recorded = await apply_together(oldenburg, cholet, large)

    assert large_count == small_count  # 40 updates, as many statements as 9
    found = await held(oldenburg, actors)
    assert {actor: sequence for actor, (sequence, _) in found.items()} == {
        kept: 6,
        paused: 6,
        newcomer: 3,
    }
    assert await tombstones(oldenburg, actors) == {gone: (1, True)}
    assert stats.received - before.received == 4 + 31
    assert stats.stale - before.stale == 3
    assert stats.tombstoned - before.tombstoned == 2
    assert len(recorded) == 4 + 31  # one "vectors changed" per stored update, as apply
