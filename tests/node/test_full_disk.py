"""A node whose disk is full: pages say "come back later" (503, translated, with
Retry-After) instead of failing, the health check reports it for a minute after
the last refused write, and once space is free again everything works without a
restart.

The disk is a real one: a small tmpfs mounted for the test and filled with a ballast
file. Mounting needs root, which CI has; elsewhere the test is skipped with the
reason (and fails under CI, where it must run)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from node.runtime import appkeys
from support.databases import postgres_server_url
from support.federation import (
    FAST,
    ProbeLog,
    probe,
    probe_extension,
    probe_ids,
    signed,
    trusting,
    wait_for,
)
from support.nodes import RunningNode, node_pair, prepare_node
from support.web import Visitor

ATTEMPTS = 400


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        reason = f"cannot mount a small disk here: {done.stderr.strip() or done.returncode}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(directory: Path) -> Path:
    """Write a ballast file until the disk refuses more."""
    ballast = directory / "ballast"
    chunk = b"\0" * (64 * 1024)
    with ballast.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(chunk)
        except OSError:
            pass
    return ballast


async def test_a_full_disk_gives_503_pages_and_a_degraded_health_check(small_disk: Path) -> None:
    url = f"sqlite+aiosqlite:///{small_disk / 'cholet.db'}"
    limits = {"requests_per_client_per_hour": 10_000, "mails_per_address_per_hour": 100}
    node = await prepare_node(small_disk, "cholet", url, overrides={"limits": limits})
    await node.start(run_workers=False)
    try:
        async with Visitor(node, language="de") as visitor, httpx.AsyncClient() as client:
            assert (await visitor.register("before@example.org")).status_code == 200
            ballast = fill(small_disk)
            refused = None
            for number in range(ATTEMPTS):
                response = await visitor.register(f"r{number}@example.org")
                assert response.status_code in (200, 503), response.status_code
                if response.status_code == 503:
                    refused = response
                    break
            assert refused is not None, "the full disk never refused a write"
            assert int(refused.headers["Retry-After"]) > 0
            assert "Vorübergehend nicht verfügbar" in refused.text
            assert "Traceback" not in refused.text
            health = await client.get(f"{node.url}/healthz")
            assert health.status_code == 503 and health.json()["status"] == "degraded"
            assert int(health.headers["Retry-After"]) > 0

            ballast.unlink()  # space is free again: no restart needed
            accepted = await visitor.register("after@example.org")
            assert accepted.status_code == 200
            # A minute after the last refused write the node is healthy again.
            assert node.app is not None
            database = node.app[appkeys.DATABASE]
            assert database.last_write_failure is not None
            database.last_write_failure -= 61
            health = await client.get(f"{node.url}/healthz")
            assert health.status_code == 200 and health.json()["status"] == "ok"
        async with Visitor(node) as anna:
            # The account made before the disk filled up is still there and usable.
            assert (await anna.verify("before@example.org")).status_code == 200
    finally:
        await node.stop()


async def test_a_full_disk_answers_peers_503_with_retry_after(small_disk: Path) -> None:
    """Nothing is acknowledged that was not stored: the sender keeps the activity and
    comes back when told to; after the disk is freed the same activity is taken."""
    if postgres_server_url():
        pytest.skip("the full disk here is the embedded database's; this run tests PostgreSQL")
    log = ProbeLog()
    async with node_pair(small_disk, overrides=FAST, extensions=[probe_extension(log)]) as (
        oldenburg,
        cholet,
    ):
        await wait_for(lambda: trusting(cholet, oldenburg), what="Cholet trusting Oldenburg")
        inbox = f"{cholet.url}/inbox"
        activity = probe(oldenburg, 1)
        ballast = fill(small_disk)
        async with httpx.AsyncClient() as client:
            refused = None
            for _ in range(ATTEMPTS):
                headers, body = signed(inbox, probe(oldenburg, 0), signer=oldenburg)
                answer = await client.post(inbox, content=body, headers=headers)
                if answer.status_code == 503:
                    refused = answer
                    break
            assert refused is not None, "the full disk never refused an activity"
            assert int(refused.headers["Retry-After"]) > 0
            assert "retry" in refused.json()["error"]
            headers, body = signed(inbox, activity, signer=oldenburg)
            assert (await client.post(inbox, content=body, headers=headers)).status_code == 503
            assert activity["id"] not in await probe_ids(cholet)

            ballast.unlink()
            headers, body = signed(inbox, activity, signer=oldenburg)
            taken = await client.post(inbox, content=body, headers=headers)
            assert taken.status_code == 202
        await wait_for(
            lambda: _has(cholet, activity["id"]), what="the activity applied after the disk freed"
        )


async def _has(node: RunningNode, activity_id: str) -> bool:
    return activity_id in await probe_ids(node)
