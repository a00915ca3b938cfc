"""The delivery worker against a scripted peer inbox on a loopback port: what is retried,
what is given up, Retry-After, per-peer order, per-peer health, holding untrusted peers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import update

from federation.signatures import parse_signature
from node.models import OutboxActivity, utcnow
from node.runtime import appkeys
from support.federation import (
    FAST,
    ScriptedPeer,
    fake_peer,
    outbox_rows,
    peer_row,
    probe,
    queue,
    wait_for,
)
from support.nodes import RunningNode, prepare_node


def _overrides(**federation: Any) -> dict[str, Mapping[str, Any]]:
    return {"federation": {**FAST["federation"], **federation}}


@pytest.fixture
async def node(tmp_path: Path, database_url: str) -> AsyncIterator[RunningNode]:
    running = await prepare_node(tmp_path, "oldenburg", database_url, overrides=_overrides())
    await running.start(extensions=[])
    try:
        yield running
    finally:
        await running.stop()


async def _states(node: RunningNode) -> list[str]:
    return [row.state for row in await outbox_rows(node)]


async def _settled(node: RunningNode) -> bool:
    return all(state in ("delivered", "failed") for state in await _states(node))


async def test_each_attempt_is_signed_afresh_with_digest(node: RunningNode) -> None:
    # Retry-After: 1 puts the second attempt into a later second, so a fresh Date shows.
    async with ScriptedPeer([(503, {"Retry-After": "1"}), 202]) as peer:
        actor = await fake_peer(node, peer)
        await queue(node, actor, [probe(node, 1)])
        await wait_for(lambda: _settled(node), what="delivery")
        assert len(peer.requests) == 2
        signatures = []
        for method, path, headers, _body in peer.requests:
            parsed = parse_signature(method, path, headers)
            assert parsed.key_id == node.keys.rsa_key_id(node.config.actor_url)
            assert parsed.algorithm == "rsa-sha256"
            assert parsed.covered == ("(request-target)", "host", "date", "digest")
            assert headers["Digest"].startswith("SHA-256=")
            signatures.append(headers["Signature"])
        assert peer.requests[0][2]["Date"] != peer.requests[1][2]["Date"]
        assert signatures[0] != signatures[1]


async def test_408_429_5xx_retry_other_4xx_fail_and_stay_visible(node: RunningNode) -> None:
    async with ScriptedPeer([503, 429, 408, 500, 202, 400, 202]) as peer:
        actor = await fake_peer(node, peer)
        first, refused, after = probe(node, 1), probe(node, 2), probe(node, 3)
        await queue(node, actor, [first, refused, after])
        await wait_for(lambda: _settled(node), what="all rows settled")
        rows = await outbox_rows(node)
        assert [(r.state, r.tries, r.last_status) for r in rows] == [
            ("delivered", 5, 202),
            ("failed", 1, 400),
            ("delivered", 1, 202),
        ]
        assert rows[1].last_error is not None and "HTTP 400" in rows[1].last_error
        assert peer.activity_ids() == [first["id"]] * 5 + [refused["id"], after["id"]]
        await asyncio.sleep(0.3)
        assert len(peer.requests) == 7  # the refused row is not tried again


async def test_a_401_is_retried_until_the_peer_can_verify(node: RunningNode) -> None:
    """A 401 is "not yet" for a while (a clock off by hours, keys not pinned yet):
    once the cause is fixed, the row goes by itself, without 'zwilling peer retry'."""
    async with ScriptedPeer([401, 401, 202]) as peer:
        actor = await fake_peer(node, peer)
        late = probe(node, 1)
        await queue(node, actor, [late])
        await wait_for(lambda: _settled(node), what="the delivery after the 401s")
        [row] = await outbox_rows(node)
        assert (row.state, row.tries, row.last_status) == ("delivered", 3, 202)
        assert peer.activity_ids() == [late["id"]] * 3


async def test_a_401_is_final_without_patience(tmp_path: Path, database_url: str) -> None:
    overrides = _overrides(unauthorised_retry_hours=0, key_grace_days=0)
    node = await prepare_node(tmp_path, "oldenburg", database_url, overrides=overrides)
    await node.start(extensions=[])
    try:
        async with ScriptedPeer([401, 202]) as peer:
            actor = await fake_peer(node, peer)
            await queue(node, actor, [probe(node, 1)])
            await wait_for(lambda: _settled(node), what="the refused delivery")
            [row] = await outbox_rows(node)
            assert (row.state, row.tries, row.last_status) == ("failed", 1, 401)
    finally:
        await node.stop()


async def test_network_errors_retry_and_mark_the_peer_failing_until_it_answers(
    node: RunningNode,
) -> None:
    peer = ScriptedPeer()  # its port is bound but not listening yet: connection refused
    actor = await fake_peer(node, peer)
    await queue(node, actor, [probe(node, 1), probe(node, 2)])

    async def failing() -> bool:
        rows = await outbox_rows(node)
        return rows[0].tries >= 2

    await wait_for(failing, what="a few refused connections")
    state = await peer_row(node, actor)
    assert state.state == "failing"
    assert state.failing_since is not None and state.next_attempt_at is not None
    rows = await outbox_rows(node)
    assert "ConnectError" in (rows[0].last_error or "")
    assert rows[1].tries == 0  # the second row waits behind the first
    async with peer:
        await wait_for(lambda: _settled(node), what="delivery once the peer listens")
        assert await _states(node) == ["delivered", "delivered"]
    state = await peer_row(node, actor)
    assert (state.state, state.failing_since, state.next_attempt_at) == ("reachable", None, None)
    assert state.consecutive_failures == 0 and state.last_success_at is not None


async def test_read_timeout_retries(tmp_path: Path, database_url: str) -> None:
    slow = _overrides(
        read_timeout_seconds=0.3, connect_timeout_seconds=0.3, delivery_lease_seconds=1.0
    )
    node = await prepare_node(tmp_path, "oldenburg", database_url, overrides=slow)
    await node.start(extensions=[])

    async def stall(request: web.Request, body: bytes) -> web.StreamResponse:
        await asyncio.sleep(1.0)
        return web.Response(status=202)

    try:
        async with ScriptedPeer([stall, 202]) as peer:
            actor = await fake_peer(node, peer)
            await queue(node, actor, [probe(node, 1)])
            await wait_for(lambda: _settled(node), what="delivery after a timeout")
            (row,) = await outbox_rows(node)
            assert (row.state, row.tries) == ("delivered", 2)
    finally:
        await node.stop()


@pytest.mark.parametrize("form", ["seconds", "http-date"])
async def test_retry_after_is_honoured(node: RunningNode, form: str) -> None:
    from federation.signatures._message import format_http_date

    async def busy(request: web.Request, body: bytes) -> web.StreamResponse:
        # The date is written when the peer answers, as a real peer would: written
        # before the node even sent its request, a slow start would eat into the wait.
        # Whole seconds: three from now is at least two.
        later = format_http_date(utcnow() + timedelta(seconds=3))
        return web.Response(
            status=503, headers={"Retry-After": "2" if form == "seconds" else later}
        )

    async with ScriptedPeer([busy, 202]) as peer:
        actor = await fake_peer(node, peer)
        await queue(node, actor, [probe(node, 1)])
        await wait_for(lambda: _settled(node), what="delivery after Retry-After")
        gap = peer.times[1] - peer.times[0]
        assert gap >= 1.8, gap  # the backoff alone would be a fraction of a second


async def test_rows_to_one_peer_go_in_order_and_a_dead_peer_is_not_spammed(
    node: RunningNode,
) -> None:
    async with ScriptedPeer([503] * 6) as peer:
        actor = await fake_peer(node, peer)
        activities = [probe(node, n) for n in range(20)]
        await queue(node, actor, activities)

        async def six_tries() -> bool:
            return len(peer.requests) >= 6

        await wait_for(six_tries, what="six refused attempts")
        # Only the head row was tried, the 19 behind it wait their turn; nothing dropped.
        assert set(peer.activity_ids()) == {activities[0]["id"]}
        states = await _states(node)
        assert states.count("pending") + states.count("sending") == 20
        await wait_for(lambda: _settled(node), what="the rest once the peer answers")
        ids = peer.activity_ids()
        assert ids[6:] == [a["id"] for a in activities]


async def test_row_older_than_max_age_fails_after_its_last_try(node: RunningNode) -> None:
    async with ScriptedPeer([503, 202]) as peer:
        actor = await fake_peer(node, peer, trusted=False)  # held while we age the row
        old, young = probe(node, 1), probe(node, 2)
        await queue(node, actor, [old, young])
        assert node.app is not None
        async with node.app[appkeys.DATABASE].write() as session:
            await session.execute(
                update(OutboxActivity)
                .where(OutboxActivity.activity_id == old["id"])
                .values(created_at=utcnow() - timedelta(hours=97))
            )
        await fake_peer(node, peer, trusted=True)
        await wait_for(lambda: _settled(node), what="settled")
        rows = await outbox_rows(node)
        assert [(r.state, r.last_status) for r in rows] == [("failed", 503), ("delivered", 202)]


async def test_deliveries_to_an_untrusted_peer_wait(node: RunningNode) -> None:
    async with ScriptedPeer() as peer:
        actor = await fake_peer(node, peer, trusted=False)
        await queue(node, actor, [probe(node, 1)])
        await asyncio.sleep(0.5)
        assert peer.requests == []
        assert await _states(node) == ["pending"]
        await fake_peer(node, peer, trusted=True)
        await wait_for(lambda: _settled(node), what="delivery once trusted")
        assert await _states(node) == ["delivered"]


async def test_a_committed_enqueue_wakes_delivery_before_the_next_poll(
    tmp_path: Path, database_url: str
) -> None:
    """Nobody calls a wake: writing an outbox row in a unit of work is enough (the
    worker here would otherwise sleep for five minutes)."""
    running = await prepare_node(
        tmp_path, "oldenburg", database_url, overrides=_overrides(worker_poll_seconds=300)
    )
    await running.start(extensions=[])
    try:
        async with ScriptedPeer([202]) as peer:
            actor = await fake_peer(running, peer)
            await asyncio.sleep(0.5)  # the worker's first round is done; it sleeps now
            await queue(running, actor, [probe(running, 1)])
            await wait_for(lambda: _settled(running), within=20, what="woken delivery")
            assert len(peer.requests) == 1
    finally:
        await running.stop()
