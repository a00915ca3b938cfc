"""Two delivery workers at once against one PostgreSQL database: no row is sent twice,
every row arrives, each peer's rows in order — while peers fail now and then, so the
workers keep taking over each other's peers."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from node.app import create_app
from node.federation.delivery_worker import DeliveryWorker
from support.databases import fresh_postgres_database
from support.federation import FAST, ScriptedPeer, fake_peer, outbox_rows, probe, queue, wait_for
from support.nodes import RunningNode, prepare_node

pytestmark = pytest.mark.postgres

PEERS = 4
PER_PEER = 40


@pytest.fixture
async def pg_node(tmp_path: Path, postgres_url: str) -> AsyncIterator[RunningNode]:
    async with fresh_postgres_database(postgres_url) as url:
        node = await prepare_node(tmp_path, "oldenburg", url, overrides=FAST)
        await node.start(extensions=[], run_workers=False)
        try:
            yield node
        finally:
            await node.stop()


async def _worker_app(node: RunningNode) -> web.AppRunner:
    """A second process's worth of app: its own engine, pool and HTTP client."""
    runner = web.AppRunner(
        create_app(node.config, keys=node.keys, extensions=[], run_workers=False)
    )
    await runner.setup()
    return runner


async def test_two_workers_never_send_a_row_twice(pg_node: RunningNode) -> None:
    rng = random.Random(7)
    scripts = [
        [503 if rng.random() < 0.15 else 202 for _ in range(PER_PEER * 2)] for _ in range(PEERS)
    ]
    peers = [ScriptedPeer(script) for script in scripts]
    runners = [await _worker_app(pg_node), await _worker_app(pg_node)]
    stop = asyncio.Event()
    try:
        for peer in peers:
            await peer.__aenter__()
        queued: dict[str, list[str]] = {}
        for peer in peers:
            actor = await fake_peer(pg_node, peer)
            activities = [probe(pg_node, n) for n in range(PER_PEER)]
            await queue(pg_node, actor, activities)
            queued[peer.url] = [a["id"] for a in activities]
        # Small batches and few peers per round, so that the two keep meeting.
        workers = [DeliveryWorker(runner.app, peers=2, batch=3) for runner in runners]
        tasks = [asyncio.create_task(worker.run(stop)) for worker in workers]

        async def settled() -> bool:
            return all(r.state == "delivered" for r in await outbox_rows(pg_node))

        await wait_for(settled, within=60, what="every row delivered")
        stop.set()
        await asyncio.gather(*tasks)

        for peer in peers:
            assert peer.acknowledged() == queued[peer.url]  # each once, in order
        settled_by = {r.claimed_by for r in await outbox_rows(pg_node)}
        assert settled_by == {w.name for w in workers}  # both took part
    finally:
        stop.set()
        for runner in runners:
            await runner.cleanup()
        for peer in peers:
            await peer.__aexit__(None, None, None)
