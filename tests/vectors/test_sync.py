"""Keeping a peer's copy of the vectors current: updates, withdrawals, full resyncs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx

from node.cli._sync import _sync as cli_sync
from node.models import Peer, RemoteProfile, Tombstone, utcnow
from node.peers.fetch import PeerFetchError
from node.runtime import appkeys
from support.federation import FAST, wait_for
from support.nodes import node_pair
from support.population import (
    acquainted,
    add_resident,
    delivered,
    peer_id,
    person,
    pseudonym_urls,
    remote_vectors,
    set_paused,
    signed_fetch,
    sync,
)


async def test_sync_pulls_the_full_set_and_removes_what_the_peer_no_longer_has(
    tmp_path: Path,
) -> None:
    async with node_pair(tmp_path, extensions=[], overrides=FAST) as (oldenburg, cholet):
        await acquainted(oldenburg, cholet)
        ids = [await add_resident(oldenburg, person(["sport.cycling"])) for _ in range(3)]
        urls = [(await pseudonym_urls(oldenburg, i))[cholet.config.actor_url] for i in ids]
        await first_contact_done(cholet, oldenburg)  # no sync of its own in between
        # A vector Cholet still holds although Oldenburg's set no longer has it (its
        # Delete was lost, say), received well before the sync starts.
        stale = f"{oldenburg.url}/p/{'d' * 64}"
        assert cholet.app is not None
        async with cholet.app[appkeys.DATABASE].write() as session:
            session.add(
                RemoteProfile(
                    peer_id=await peer_id(cholet, oldenburg),
                    actor_url=stale,
                    vector={"type": "InterestProfile", "id": stale, "kind": "person"},
                    updated=utcnow() - timedelta(days=2),
                    received_at=utcnow() - timedelta(days=1),
                )
            )
        result = await sync(cholet, oldenburg)
        assert result.fetched == 3 and result.reconciled.removed == 1
        assert set(await remote_vectors(cholet)) == set(urls)


async def test_the_sync_command_pages_through_a_large_set(tmp_path: Path, capsys) -> None:
    from node.vectors import _pages as vector_pages

    async with node_pair(tmp_path, extensions=[], overrides=FAST) as (oldenburg, cholet):
        await acquainted(oldenburg, cholet)
        for _ in range(7):
            await add_resident(oldenburg, person(["music_making.choir"]))
        original = vector_pages.PAGE_SIZE
        vector_pages.PAGE_SIZE = 3  # seven vectors: three pages
        try:
            assert await cli_sync(cholet.config, None) == 0
        finally:
            vector_pages.PAGE_SIZE = original
        printed = capsys.readouterr().out
        assert "7 vectors in 3 pages" in printed, printed
        assert len(await remote_vectors(cholet)) == 7


async def test_vectors_are_for_peers_only_and_pages_carry_proofs(tmp_path: Path) -> None:
    async with node_pair(tmp_path, extensions=[], overrides=FAST) as (oldenburg, cholet):
        await acquainted(oldenburg, cholet)
        await add_resident(oldenburg, person(["sport.cycling"]))
        async with httpx.AsyncClient() as client:
            unsigned = await client.get(f"{oldenburg.url}/vectors")
            assert unsigned.status_code == 401
            collection = await signed_fetch(client, f"{oldenburg.url}/vectors", cholet)
            assert collection["type"] == "OrderedCollection" and collection["totalItems"] == 1
            page = await signed_fetch(client, collection["first"], cholet)
            assert page["type"] == "OrderedCollectionPage"
            assert page["proof"]["cryptosuite"] == "eddsa-jcs-2022"
            assert page["proof"]["verificationMethod"] == oldenburg.keys.ed25519_key_id(
                oldenburg.config.actor_url
            )
            try:
                await signed_fetch(client, f"{oldenburg.url}/vectors?page=../etc", cholet)
            except PeerFetchError as exc:
                assert exc.status == 400
            else:
                raise AssertionError("a malformed cursor was accepted")


async def test_pausing_withdraws_the_vector_at_the_peer_and_resuming_restores_it(
    tmp_path: Path,
) -> None:
    async with node_pair(tmp_path, extensions=[], overrides=FAST) as (oldenburg, cholet):
        await acquainted(oldenburg, cholet)
        resident_id = await add_resident(oldenburg, person(["sport.cycling"]))
        actor = (await pseudonym_urls(oldenburg, resident_id))[cholet.config.actor_url]
        await delivered(oldenburg)
        assert actor in await remote_vectors(cholet)

        await set_paused(oldenburg, resident_id, True)
        await delivered(oldenburg)
        assert actor not in await remote_vectors(cholet)
        assert cholet.app is not None
        async with cholet.app[appkeys.DATABASE].read() as session:
            tombstone = await session.get(Tombstone, actor)
            assert tombstone is not None and not tombstone.actor_deleted
        async with httpx.AsyncClient() as client:
            # Only the profile is withdrawn: the actor still answers for its contacts.
            still = await signed_fetch(client, actor, cholet)
            assert still["id"] == actor and still["type"] == "Person"

        await set_paused(oldenburg, resident_id, False)
        await delivered(oldenburg)
        assert actor in await remote_vectors(cholet)  # same pseudonym, newer than the tombstone


async def test_a_node_pulls_a_peer_s_set_by_itself_on_first_contact(tmp_path: Path) -> None:
    async with node_pair(tmp_path, extensions=[], overrides=FAST, start=False) as (
        oldenburg,
        cholet,
    ):
        await oldenburg.start([], run_workers=False)  # publishes while Cholet is away
        try:
            for _ in range(2):
                await add_resident(oldenburg, person(["games.chess"]))
            await cholet.start([])

            async def arrived() -> bool:
                return len(await remote_vectors(cholet)) == 2

            await wait_for(arrived, within=30, what="Cholet's first-contact sync")
        finally:
            await cholet.stop()
            await oldenburg.stop()


async def first_contact_done(node, other) -> None:
    """Wait until ``node``'s worker has made its own first-contact sync with ``other``."""
    assert node.app is not None
    target = await peer_id(node, other)

    async def synced() -> bool:
        async with node.app[appkeys.DATABASE].read() as session:
            peer = await session.get(Peer, target)
            return peer is not None and peer.last_sync_at is not None

    await wait_for(synced, within=30, what="the first-contact sync")
