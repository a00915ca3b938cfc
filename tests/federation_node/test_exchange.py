"""Two real nodes on loopback ports exchange activities both ways through their outboxes."""

from __future__ import annotations

from pathlib import Path

from support.federation import (
    FAST,
    ProbeLog,
    outbox_rows,
    peer_row,
    probe,
    probe_extension,
    probe_ids,
    queue,
    trusting,
    wait_for,
)
from support.nodes import node_pair


async def test_activities_travel_both_ways_in_order(tmp_path: Path) -> None:
    received = ProbeLog()  # both nodes record into it; activity ids tell them apart
    async with node_pair(tmp_path, overrides=FAST, extensions=[probe_extension(received)]) as (
        oldenburg,
        cholet,
    ):
        # This test is about order; trust at start-up is another test's (test_peers).
        await wait_for(lambda: trusting(oldenburg, cholet), what="Oldenburg trusts Cholet")
        await wait_for(lambda: trusting(cholet, oldenburg), what="Cholet trusts Oldenburg")
        to_cholet = [probe(oldenburg, n) for n in range(5)]
        to_oldenburg = [probe(cholet, 100 + n) for n in range(5)]
        await queue(oldenburg, cholet, to_cholet)
        await queue(cholet, oldenburg, to_oldenburg)

        async def all_arrived() -> bool:
            return len(received.applied) == 10

        await wait_for(all_arrived, what="ten activities delivered")
        assert await probe_ids(cholet) == [a["id"] for a in to_cholet]
        assert await probe_ids(oldenburg) == [a["id"] for a in to_oldenburg]

        async def settled() -> bool:
            return all(r.state == "delivered" for r in await outbox_rows(oldenburg))

        await wait_for(settled, what="Oldenburg to record its deliveries")
        peer = await peer_row(oldenburg, cholet.config.actor_url)
        assert peer.state == "reachable"
        assert peer.last_success_at is not None
        assert peer.failing_since is None
