"""``zwilling keys rotate``: the new key is trusted by a peer only after the ``Update``
signed with the old one arrived; the old key stays good for the grace period."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import select, update

from federation.keys import fingerprint
from node.models import PeerKey, utcnow
from node.runtime import appkeys
from node.runtime.keys import RSA_FILE, keys_dir, load_keys
from support.federation import (
    FAST,
    ProbeLog,
    inbox_rows,
    probe,
    probe_extension,
    queue,
    signed,
    trusting,
    wait_for,
)
from support.nodes import RunningNode, node_pair, write_config

ROOT = Path(__file__).resolve().parents[2]


async def _post_as(sender: RunningNode, receiver: RunningNode, key: object) -> httpx.Response:
    inbox = f"{receiver.url}/inbox"
    headers, body = signed(inbox, probe(sender), signer=sender, key=key)  # type: ignore[arg-type]
    async with httpx.AsyncClient() as http:
        return await http.post(inbox, content=body, headers=headers)


async def _keys_of(node: RunningNode, other: RunningNode) -> list[PeerKey]:
    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as session:
        rows = await session.scalars(
            select(PeerKey).where(PeerKey.key_id == f"{other.config.actor_url}#main-key")
        )
        return list(rows.all())


async def test_rotation_is_announced_with_the_old_key_and_old_key_has_grace(
    tmp_path: Path,
) -> None:
    log = ProbeLog()
    extensions = [probe_extension(log)]
    async with node_pair(tmp_path, overrides=FAST, extensions=extensions) as (oldenburg, cholet):
        await wait_for(lambda: trusting(cholet, oldenburg), what="Cholet trusting Oldenburg")
        await wait_for(lambda: trusting(oldenburg, cholet), what="Oldenburg trusting Cholet")
        old_key = oldenburg.keys.rsa
        # Queued before the rotation while Cholet is down: it must still go out under
        # the old key, ahead of the Update.
        await cholet.stop()
        earlier = probe(oldenburg, 1)
        await queue(oldenburg, cholet, [earlier])
        await oldenburg.stop()

        config_file = write_config(oldenburg, tmp_path / "oldenburg.toml")
        rotated = await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "-m",
                "node.cli",
                "--config",
                str(config_file),
                "--data-dir",
                str(oldenburg.config.data_dir),
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
        assert "Update of the actor queued to 1 peer(s)" in rotated.stdout
        directory = keys_dir(oldenburg.config)
        retired = list(directory.glob("http-signature-rsa-retired-*.pem"))
        assert len(retired) == 1
        assert (directory / RSA_FILE).stat().st_mode & 0o777 == 0o600
        new_keys = load_keys(oldenburg.config)
        assert fingerprint(new_keys.rsa) != fingerprint(old_key)
        assert fingerprint(new_keys.rsa) in rotated.stdout

        await cholet.start(extensions)
        # Not announced yet: Cholet refuses the new key.
        refused = await _post_as(oldenburg, cholet, new_keys.rsa)
        assert refused.status_code == 401

        oldenburg.keys = new_keys
        await oldenburg.start(extensions)

        async def announced() -> bool:
            return len(await _keys_of(cholet, oldenburg)) == 2

        await wait_for(announced, what="the Update to pin the new key at Cholet")
        arrived = [(r.activity_id, r.object_type) for r in await inbox_rows(cholet)]
        update_at = [n for n, (_, kind) in enumerate(arrived) if kind == "Service"]
        assert arrived.index((earlier["id"], "Probe")) < update_at[0]  # Update came after
        assert earlier["id"] in log.applied

        accepted = await _post_as(oldenburg, cholet, new_keys.rsa)
        assert accepted.status_code == 202, accepted.text
        still = await _post_as(oldenburg, cholet, old_key)
        assert still.status_code == 202, still.text  # grace period
        keys = {key.fingerprint: key for key in await _keys_of(cholet, oldenburg)}
        old_pin = keys[fingerprint(old_key)]
        new_pin = keys[fingerprint(new_keys.rsa)]
        assert new_pin.pinned_by == "rotation" and new_pin.retires_at is None
        assert old_pin.retires_at is not None
        grace = old_pin.retires_at - utcnow()
        assert timedelta(days=6, hours=23) < grace <= timedelta(days=7)

        # After the grace period the old key is refused.
        assert cholet.app is not None
        async with cholet.app[appkeys.DATABASE].write() as session:
            await session.execute(
                update(PeerKey)
                .where(PeerKey.id == old_pin.id)
                .values(retires_at=utcnow() - timedelta(seconds=1))
            )
        await cholet.stop()  # days later; the restart also drops the key cache
        await cholet.start(extensions)
        expired = await _post_as(oldenburg, cholet, old_key)
        assert expired.status_code == 401
        # Deliveries after the restart are signed with the new key and accepted.
        later = probe(oldenburg, 2)
        await queue(oldenburg, cholet, [later])

        async def delivered() -> bool:
            return later["id"] in log.applied

        await wait_for(delivered, what="a delivery signed with the new key")
