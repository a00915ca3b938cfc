"""Nothing queued is lost: not when the receiving node is down for a while, not when the
sending worker is killed with SIGKILL in the middle of a batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
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
from support.nodes import RunningNode, node_pair, write_config

ROOT = Path(__file__).resolve().parents[2]


async def test_receiver_down_then_back_gets_everything_in_order(tmp_path: Path) -> None:
    log = ProbeLog()
    extensions = [probe_extension(log)]
    async with node_pair(tmp_path, overrides=FAST, extensions=extensions) as (oldenburg, cholet):
        await wait_for(lambda: trusting(oldenburg, cholet), what="Oldenburg trusting Cholet")
        await wait_for(lambda: trusting(cholet, oldenburg), what="Cholet trusting Oldenburg")
        await cholet.stop()
        activities = [probe(oldenburg, n) for n in range(12)]
        await queue(oldenburg, cholet, activities[:6])

        async def failing() -> bool:
            peer = await peer_row(oldenburg, cholet.config.actor_url)
            return peer.state == "failing" and peer.consecutive_failures >= 3

        await wait_for(failing, what="Oldenburg noticing Cholet is down")
        await queue(oldenburg, cholet, activities[6:])
        assert {r.state for r in await outbox_rows(oldenburg)} <= {"pending", "sending"}

        await cholet.start(extensions)

        async def arrived() -> bool:
            return len(log.applied) == len(activities)

        await wait_for(arrived, what="every queued activity after the restart")

        async def settled() -> bool:
            return all(r.state == "delivered" for r in await outbox_rows(oldenburg))

        await wait_for(settled, what="Oldenburg to record the deliveries")
        assert await probe_ids(cholet) == [a["id"] for a in activities]
        assert log.numbers == list(range(12))
        peer = await peer_row(oldenburg, cholet.config.actor_url)
        assert (peer.state, peer.failing_since) == ("reachable", None)


def _worker(config_file: Path, node: RunningNode) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "node.cli",
            "--config",
            str(config_file),
            "--data-dir",
            str(node.config.data_dir),
            "worker",
            "--log-level",
            "WARNING",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


async def test_worker_killed_mid_batch_loses_nothing_and_duplicates_nothing(
    tmp_path: Path,
) -> None:
    log = ProbeLog()
    total = 120
    async with node_pair(
        tmp_path, overrides=FAST, extensions=[probe_extension(log)], run_workers=False
    ) as (oldenburg, cholet):
        # No workers in-process: the worker subprocess fetches Cholet's actor itself.
        await wait_for(lambda: trusting(cholet, oldenburg), what="Cholet trusting Oldenburg")
        activities = [probe(oldenburg, n) for n in range(total)]
        await queue(oldenburg, cholet, activities)
        config_file = write_config(oldenburg, tmp_path / "oldenburg.toml")

        first = _worker(config_file, oldenburg)
        try:

            async def some_arrived() -> bool:
                assert first.poll() is None, first.stderr.read() if first.stderr else ""
                return len(await probe_ids(cholet)) >= 15

            await wait_for(some_arrived, within=60, what="the first worker to deliver some")
            first.send_signal(signal.SIGKILL)
            assert first.wait(timeout=10) == -signal.SIGKILL
        finally:
            if first.poll() is None:
                first.kill()
        at_kill = len(await probe_ids(cholet))
        assert at_kill < total, "the worker finished before it could be killed"
        states = [r.state for r in await outbox_rows(oldenburg)]
        assert "sending" in states  # it died holding a claimed row

        second = _worker(config_file, oldenburg)
        try:

            async def all_delivered() -> bool:
                assert second.poll() is None, second.stderr.read() if second.stderr else ""
                return all(r.state == "delivered" for r in await outbox_rows(oldenburg))

            await wait_for(all_delivered, within=60, what="the second worker to finish")
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=20) == 0
            errors = second.stderr.read() if second.stderr else ""
            assert "Traceback" not in errors, errors

        received = await probe_ids(cholet)
        assert received == [a["id"] for a in activities]  # each once, in order
        assert sorted(log.applied) == sorted(a["id"] for a in activities)
        assert len(log.applied) == total  # applied exactly once each
