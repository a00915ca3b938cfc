"""``zwilling keys rotate`` with the node stopped: every key has its own id, the
announcing ``Update`` (signed with the old key, the one peers trust) goes first, every
other queued row is signed with the new key when it is sent, and the old key stays
good for the grace period."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web
from sqlalchemy import select, update

from federation.documents import ACTIVITY_JSON
from federation.keys import fingerprint, load_public_key_pem, published_key_id
from federation.signatures import parse_signature, verify_request
from node.cli import main as zwilling
from node.models import PeerKey, utcnow
from node.runtime import appkeys
from node.runtime.keys import RSA_FILE, keys_dir, load_keys
from support.federation import (
    FAST,
    ProbeLog,
    ScriptedPeer,
    fake_peer,
    inbox_rows,
    outbox_rows,
    probe,
    probe_extension,
    queue,
    signed,
    trusting,
    wait_for,
)
from support.nodes import RunningNode, node_pair, write_config

ROOT = Path(__file__).resolve().parents[2]


async def _post_as(
    sender: RunningNode, receiver: RunningNode, key: Any, key_id: str | None = None
) -> httpx.Response:
    inbox = f"{receiver.url}/inbox"
    headers, body = signed(inbox, probe(sender), signer=sender, key=key, key_id_=key_id)
    async with httpx.AsyncClient() as http:
        return await http.post(inbox, content=body, headers=headers)


async def _rsa_pins(node: RunningNode, other: RunningNode) -> list[PeerKey]:
    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as session:
        rows = await session.scalars(
            select(PeerKey).where(
                PeerKey.key_id.startswith(f"{other.config.actor_url}#main-key"),
                PeerKey.algorithm == "rsa",
            )
        )
        return list(rows.all())


async def _actor(node: RunningNode) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        response = await http.get(node.config.actor_url, headers={"Accept": ACTIVITY_JSON})
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _public_keys(actor: dict[str, Any]) -> list[dict[str, Any]]:
    keys = actor["publicKey"]
    return keys if isinstance(keys, list) else [keys]


def _rotate_cli(node: RunningNode, config_file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
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


async def test_key_ids_are_derived_from_the_keys(tmp_path: Path) -> None:
    async with node_pair(tmp_path, overrides=FAST, extensions=[]) as (oldenburg, _cholet):
        actor = await _actor(oldenburg)
        url = oldenburg.config.actor_url
        [rsa] = _public_keys(actor)
        [ed] = actor["assertionMethod"]
        assert rsa["id"] == published_key_id(url, oldenburg.keys.rsa)
        assert rsa["id"].startswith(f"{url}#main-key-") and len(rsa["id"]) == len(url) + 22
        assert ed["id"] == published_key_id(url, oldenburg.keys.ed25519)
        assert ed["id"].startswith(f"{url}#ed25519-key-")
        assert fingerprint(load_public_key_pem(rsa["publicKeyPem"])) == (
            oldenburg.keys.rsa_fingerprint
        )


async def test_rotation_with_the_node_stopped_delivers_everything_queued(
    tmp_path: Path,
) -> None:
    log = ProbeLog()
    extensions = [probe_extension(log)]
    async with node_pair(tmp_path, overrides=FAST, extensions=extensions) as (oldenburg, cholet):
        await wait_for(lambda: trusting(cholet, oldenburg), what="Cholet trusting Oldenburg")
        await wait_for(lambda: trusting(oldenburg, cholet), what="Oldenburg trusting Cholet")
        old_key = oldenburg.keys.rsa
        old_id = published_key_id(oldenburg.config.actor_url, old_key)
        # Queued before the rotation while Cholet is down.
        await cholet.stop()
        earlier = [probe(oldenburg, 1), probe(oldenburg, 2)]
        await queue(oldenburg, cholet, earlier)
        await oldenburg.stop()

        config_file = write_config(oldenburg, tmp_path / "oldenburg.toml")
        rotated = await asyncio.to_thread(_rotate_cli, oldenburg, config_file)
        assert rotated.returncode == 0, rotated.stderr
        assert "Update of the actor queued to 1 peer(s)" in rotated.stdout
        directory = keys_dir(oldenburg.config)
        assert len(list(directory.glob("http-signature-rsa-retired-*.pem"))) == 1
        assert (directory / RSA_FILE).stat().st_mode & 0o777 == 0o600
        new_keys = load_keys(oldenburg.config)
        new_id = new_keys.rsa_key_id(oldenburg.config.actor_url)
        assert fingerprint(new_keys.rsa) != fingerprint(old_key)
        assert new_id != old_id
        assert fingerprint(new_keys.rsa) in rotated.stdout and new_id in rotated.stdout
        assert [key.fingerprint for key in new_keys.retired] == [fingerprint(old_key)]

        await cholet.start(extensions)
        # Not announced yet: Cholet refuses the new key, under either id.
        assert (await _post_as(oldenburg, cholet, new_keys.rsa, new_id)).status_code == 401
        assert (await _post_as(oldenburg, cholet, new_keys.rsa)).status_code == 401

        oldenburg.keys = new_keys
        await oldenburg.start(extensions)
        # During the grace period the actor lists both keys, each under its own id,
        # the current one first.
        listed = _public_keys(await _actor(oldenburg))
        assert [entry["id"] for entry in listed] == [new_id, old_id]

        async def all_applied() -> bool:
            return all(activity["id"] in log.applied for activity in earlier)

        await wait_for(all_applied, what="every queued delivery applied at Cholet")
        arrived = await inbox_rows(cholet)
        kinds = [row.object_type for row in arrived]
        announcement = kinds.index("Service")
        # The announcement went first, signed with the key Cholet trusted; everything
        # queued before the rotation went after it, signed with the new key.
        assert arrived[announcement].key_fingerprint == fingerprint(old_key)
        for activity in earlier:
            row = next(row for row in arrived if row.activity_id == activity["id"])
            assert arrived.index(row) > announcement
            assert row.key_fingerprint == fingerprint(new_keys.rsa)

        async def settled() -> bool:
            return {row.state for row in await outbox_rows(oldenburg)} == {"delivered"}

        await wait_for(settled, what="Oldenburg's outbox to settle")

        pins = {key.fingerprint: key for key in await _rsa_pins(cholet, oldenburg)}
        old_pin, new_pin = pins[fingerprint(old_key)], pins[fingerprint(new_keys.rsa)]
        assert new_pin.pinned_by == "rotation" and new_pin.retires_at is None
        assert new_pin.key_id == new_id
        assert old_pin.retires_at is not None
        grace = old_pin.retires_at - utcnow()
        assert timedelta(days=6, hours=23) < grace <= timedelta(days=7)

        accepted = await _post_as(oldenburg, cholet, new_keys.rsa, new_id)
        assert accepted.status_code == 202, accepted.text
        # An older node still naming "#main-key": matched by the key, not the id.
        legacy = await _post_as(oldenburg, cholet, new_keys.rsa)
        assert legacy.status_code == 202, legacy.text
        still = await _post_as(oldenburg, cholet, old_key, old_id)
        assert still.status_code == 202, still.text  # grace period

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
        assert (await _post_as(oldenburg, cholet, old_key, old_id)).status_code == 401
        # Deliveries after the restart are signed with the new key and accepted.
        later = probe(oldenburg, 3)
        await queue(oldenburg, cholet, [later])

        async def delivered() -> bool:
            return later["id"] in log.applied

        await wait_for(delivered, what="a delivery signed with the new key")


class FetchingVerifier:
    """An inbox that verifies like most fediverse software: it fetches the actor a
    signature's key id points into and looks the key up by that id. It keeps the
    document it fetched and fetches again only after refusing an unknown key id, so
    a node that just rotated first meets an outdated copy of its actor."""

    def __init__(self) -> None:
        self.actors: dict[str, dict[str, Any]] = {}
        self.verified: list[tuple[str, str]] = []  # (activity id, key id)
        self.refused: list[str] = []

    async def _actor(self, url: str, *, fresh: bool) -> dict[str, Any]:
        if fresh or url not in self.actors:
            async with httpx.AsyncClient() as http:
                response = await http.get(url, headers={"Accept": ACTIVITY_JSON})
            self.actors[url] = response.json()
        return self.actors[url]

    async def __call__(self, request: web.Request, body: bytes) -> web.Response:
        target = f"http://{request.host}{request.raw_path}"
        parsed = parse_signature(request.method, target, request.headers)
        actor = await self._actor(parsed.key_id.partition("#")[0], fresh=False)
        entry = next((key for key in _public_keys(actor) if key["id"] == parsed.key_id), None)
        if entry is None:
            self.refused.append(parsed.key_id)
            await self._actor(parsed.key_id.partition("#")[0], fresh=True)
            return web.json_response({"error": f"unknown key {parsed.key_id}"}, status=401)
        verify_request(
            request.method,
            target,
            request.headers,
            body,
            public_key=load_public_key_pem(entry["publicKeyPem"]),
            now=datetime.now(UTC),
            parsed=parsed,
        )
        self.verified.append((json.loads(body)["id"], parsed.key_id))
        return web.Response(status=202)


async def _rotate_in_process(node: RunningNode, tmp_path: Path) -> None:
    """What ``zwilling keys rotate`` does, through its entry point, with the node stopped."""
    config_file = write_config(node, tmp_path / f"{node.config.node.slug}.toml")
    argv = ["--config", str(config_file), "--data-dir", str(node.config.data_dir)]
    assert await asyncio.to_thread(zwilling, [*argv, "keys", "rotate"]) == 0
    node.keys = load_keys(node.config)


async def test_a_peer_that_fetches_keys_verifies_after_the_restart(tmp_path: Path) -> None:
    verifier = FetchingVerifier()
    async with (
        ScriptedPeer([verifier] * 20) as peer,
        node_pair(tmp_path, overrides=FAST, extensions=[]) as (oldenburg, _cholet),
    ):
        peer_actor = await fake_peer(oldenburg, peer)
        before = probe(oldenburg, 1)
        await queue(oldenburg, peer_actor, [before])

        async def acknowledged(activity_id: str) -> bool:
            return activity_id in peer.acknowledged()

        await wait_for(lambda: acknowledged(before["id"]), what="a delivery before the rotation")
        old_id = oldenburg.keys.rsa_key_id(oldenburg.config.actor_url)
        await oldenburg.stop()
        await _rotate_in_process(oldenburg, tmp_path)
        new_id = oldenburg.keys.rsa_key_id(oldenburg.config.actor_url)
        await oldenburg.start([])
        after = probe(oldenburg, 2)
        await queue(oldenburg, peer_actor, [after])

        async def delivered() -> bool:
            rows = await outbox_rows(oldenburg)
            return any(r.activity_id == after["id"] and r.state == "delivered" for r in rows)

        await wait_for(delivered, what="the delivery after the restart")
        # The announcement verified against the outdated actor under the old key's id;
        # the next delivery was refused once (unknown id), retried, and verified under
        # the new key's id once the peer had fetched the actor again.
        keys_used = dict(verifier.verified)
        assert keys_used[before["id"]] == old_id
        assert keys_used[after["id"]] == new_id
        rows = {row.activity_id: row for row in await outbox_rows(oldenburg)}
        [announcement] = [
            row
            for row in rows.values()
            if row.sign_with is not None and row.peer_id == rows[after["id"]].peer_id
        ]
        assert keys_used[announcement.activity_id] == old_id
        assert [activity_id for activity_id, _ in verifier.verified] == [
            before["id"],
            announcement.activity_id,
            after["id"],
        ]
        assert verifier.refused == [new_id]
        assert rows[after["id"]].state == "delivered" and rows[after["id"]].tries == 2


async def test_a_401_is_final_once_the_rotation_grace_is_over(tmp_path: Path) -> None:
    overrides = {
        "federation": {**FAST["federation"], "key_grace_days": 0, "unauthorised_retry_hours": 0}
    }
    async with (
        ScriptedPeer([401, 401]) as peer,
        node_pair(tmp_path, overrides=overrides, extensions=[]) as (oldenburg, _cholet),
    ):
        peer_actor = await fake_peer(oldenburg, peer)
        await oldenburg.stop()
        await _rotate_in_process(oldenburg, tmp_path)
        await oldenburg.start([])
        refused = probe(oldenburg, 1)
        await queue(oldenburg, peer_actor, [refused])

        async def settled() -> bool:
            rows = [row for row in await outbox_rows(oldenburg) if row.activity_type == "Create"]
            return bool(rows) and rows[0].state == "failed"

        await wait_for(settled, what="the refused delivery to be given up")
        rows = {row.activity_id: row for row in await outbox_rows(oldenburg)}
        assert rows[refused["id"]].tries == 1
        assert rows[refused["id"]].last_status == 401
        # The announcement was refused too, and given up as well (no grace to wait for).
        announcements = [
            row
            for row in rows.values()
            if row.sign_with is not None and row.peer_id == rows[refused["id"]].peer_id
        ]
        assert [row.state for row in announcements] == ["failed"]


async def test_keys_pinned_under_the_ids_of_an_older_node_still_verify(tmp_path: Path) -> None:
    """A pin made from an actor document of an older version (``#main-key``,
    ``#ed25519-key``) matches signatures under the new ids, by the key itself."""
    log = ProbeLog()
    extensions = [probe_extension(log)]
    async with node_pair(tmp_path, overrides=FAST, extensions=extensions) as (oldenburg, cholet):
        await wait_for(lambda: trusting(cholet, oldenburg), what="Cholet trusting Oldenburg")
        actor = oldenburg.config.actor_url
        assert cholet.app is not None
        async with cholet.app[appkeys.DATABASE].write() as session:
            await session.execute(
                update(PeerKey)
                .where(PeerKey.key_id == oldenburg.keys.rsa_key_id(actor))
                .values(key_id=f"{actor}#main-key")
            )
        await cholet.stop()  # drops the key cache
        await cholet.start(extensions)
        current = oldenburg.keys.rsa_key_id(actor)
        accepted = await _post_as(oldenburg, cholet, oldenburg.keys.rsa, current)
        assert accepted.status_code == 202, accepted.text
        # Another actor's key under this actor's id is no match.
        stranger = await _post_as(cholet, cholet, cholet.keys.rsa, current)
        assert stranger.status_code == 401
        later = probe(oldenburg, 1)
        await queue(oldenburg, cholet, [later])

        async def delivered() -> bool:
            return later["id"] in log.applied

        await wait_for(delivered, what="a delivery under the new id")
