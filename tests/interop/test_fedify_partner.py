"""A partner city built on Fedify (the TypeScript ActivityPub framework) against a real
node: discovery, the actor's two keys, the signed pull of ``/vectors`` with every page's
proof, and deliveries verified by Fedify — before and after ``zwilling keys rotate``.

The partner is ``partner/partner.mjs``, run with Node.js; ``.ci/run`` installs its
dependencies (``npm ci``). Without Node.js or those dependencies the test is skipped,
except in CI (``CI=true``), where it fails with the reason.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from federation.keys import fingerprint, load_public_key_pem
from node.runtime.keys import load_keys
from support.databases import scratch_database
from support.federation import FAST, outbox_rows
from support.nodes import RunningNode, prepare_node, write_config
from support.population import add_resident, varied_profiles

ROOT = Path(__file__).resolve().parents[2]
PARTNER = Path(__file__).resolve().parent / "partner"
MIN_NODE_MAJOR = 20
# How long the partner may take for one answer (its own waits are shorter).
ANSWER_SECONDS = 45.0


def _missing_partner() -> str | None:
    """Why the partner cannot run here, or None."""
    node = shutil.which("node")
    if node is None:
        return "Node.js is not installed (no `node` on PATH); the Fedify partner needs Node 20+"
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, timeout=30, check=False
    ).stdout.strip()
    try:
        major = int(version.lstrip("v").split(".")[0])
    except ValueError:
        return f"cannot tell the Node.js version from {version!r}"
    if major < MIN_NODE_MAJOR:
        return f"Node.js {version} is too old; the Fedify partner needs Node {MIN_NODE_MAJOR}+"
    if not (PARTNER / "node_modules" / "@fedify" / "fedify" / "package.json").is_file():
        return f"the partner's dependencies are not installed: run `npm ci` in {PARTNER}"
    return None


def _node_binary() -> str:
    """The ``node`` to run the partner with; without one, a skip here and a failure in CI."""
    reason = _missing_partner()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    found = shutil.which("node")
    assert found is not None
    return found


class Partner:
    """The running partner program: commands in on stdin, one JSON line out per step."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.steps: list[dict[str, Any]] = []

    async def _line(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        raw = await asyncio.wait_for(self.process.stdout.readline(), ANSWER_SECONDS)
        if not raw:
            assert self.process.stderr is not None
            error = (await self.process.stderr.read()).decode(errors="replace")
            raise AssertionError(f"the Fedify partner exited: {error[-4000:]}")
        line: dict[str, Any] = json.loads(raw)
        return line

    async def ready(self) -> dict[str, Any]:
        line = await self._line()
        assert line.get("event") == "ready", line
        return line

    async def run(self, command: dict[str, Any], steps: int) -> None:
        """Send ``command`` and collect the ``steps`` step reports it answers with."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command).encode() + b"\n")
        await self.process.stdin.drain()
        while steps:
            line = await self._line()
            assert "step" in line, line
            self.steps.append(line)
            steps -= 1


@asynccontextmanager
async def partner_program(node_binary: str) -> AsyncIterator[Partner]:
    process = await asyncio.create_subprocess_exec(
        node_binary,
        "partner.mjs",
        cwd=PARTNER,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        limit=2**22,
    )
    try:
        yield Partner(process)
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


def _peer_entry(ready: dict[str, Any]) -> dict[str, Any]:
    """How the node's config pins the partner: its actor and the fingerprints of its keys,
    computed as for any peer (what ``zwilling keys show`` prints on a zwilling node)."""
    return {
        "actor_url": ready["actor"],
        "fingerprints": [fingerprint(load_public_key_pem(pem)) for pem in ready["keys"].values()],
    }


async def _rotate_keys(node: RunningNode, directory: Path) -> None:
    """``zwilling keys rotate`` as an admin runs it, with the node stopped."""
    config_file = write_config(node, directory / "oldenburg.toml")
    rotated = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "node.cli",
            "--config",
            str(config_file),
            "--data-dir",
            str(node.config.data_dir),
            "keys",
            "rotate",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ},
    )
    assert rotated.returncode == 0, rotated.stderr
    node.keys = load_keys(node.config)


async def test_a_fedify_partner_reads_and_verifies_everything_the_node_publishes(
    tmp_path: Path,
) -> None:
    node_binary = _node_binary()
    profiles = varied_profiles(4, seed=12, native="de", other="fr")
    async with (
        partner_program(node_binary) as partner,
        scratch_database(tmp_path, "oldenburg") as database_url,
    ):
        ready = await partner.ready()
        node = await prepare_node(
            tmp_path, "oldenburg", database_url, peers=[_peer_entry(ready)], overrides=FAST
        )
        try:
            await node.start(extensions=[])
            for profile in profiles[:3]:
                await add_resident(node, profile)
            check = {"cmd": "check", "node": node.url, "slug": node.config.node.slug}
            await partner.run(check, steps=3)  # webfinger, actor, vectors
            # The vector Updates of those residents, sent to every peer.
            await partner.run({"cmd": "deliveries", "step": "delivery", "within": 15}, steps=1)

            # A change queued while nothing sends, then the keys rotated with the node
            # stopped: after the restart every queued delivery must still verify.
            await node.stop()
            await node.start(extensions=[], run_workers=False)
            await add_resident(node, profiles[3])
            await node.stop()
            await _rotate_keys(node, tmp_path)
            await node.start(extensions=[])
            await partner.run(
                {"cmd": "deliveries", "step": "delivery after keys rotate", "within": 15}, steps=1
            )
            await partner.run({"cmd": "expansion"}, steps=1)
            outbox = {(row.id, row.state) for row in await outbox_rows(node)}
        finally:
            await node.stop()

    print(json.dumps(partner.steps, indent=2, ensure_ascii=False))  # shown on failure
    failed = [step for step in partner.steps if not step["ok"]]
    report = json.dumps(failed, indent=2, ensure_ascii=False)
    assert [step["step"] for step in partner.steps] == [
        "webfinger",
        "actor",
        "vectors",
        "delivery",
        "delivery after keys rotate",
        "json-ld expansion",
    ]
    assert not failed, f"steps the Fedify partner refused:\n{report}"
    # What had to arrive: the residents' vector Updates, then after the rotation the
    # Update queued while the node was stopped and the Update announcing the new key.
    kinds = {
        step["step"]: {(d["type"], d["object_type"]) for d in step["details"]["received"]}
        for step in partner.steps
        if step["step"].startswith("delivery")
    }
    assert ("Update", "InterestProfile") in kinds["delivery"], kinds
    assert {("Update", "InterestProfile"), ("Update", "Service")} <= kinds[
        "delivery after keys rotate"
    ], kinds
    # None of them given up on: a refusal right after a rotation is retried, not final.
    assert not {row for row in outbox if row[1] == "failed"}, outbox
