"""Peers: config peers at startup, pinning by fingerprint only, ``zwilling peer add | list
| remove | retry`` and ``check`` as an admin runs them, and peer-only signed GETs."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
from aiohttp import web

from federation.keys import fingerprint, generate_ed25519_key, generate_rsa_key
from federation.signatures import sign_request
from node.models import Peer
from node.peers.appkeys import FETCHER
from node.peers.endpoints import require_peer_signature
from node.runtime import appkeys
from support.databases import scratch_database
from support.federation import (
    FAST,
    ProbeLog,
    outbox_rows,
    peer_row,
    probe,
    probe_extension,
    queue,
    signed,
    trusting,
    wait_for,
)
from support.nodes import RunningNode, node_pair, prepare_node, write_config

ROOT = Path(__file__).resolve().parents[2]


async def zwilling(
    config_file: Path, node: RunningNode, *args: str
) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess, without blocking the loop that serves the test nodes."""
    return await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "node.cli",
            "--config",
            str(config_file),
            "--data-dir",
            str(node.config.data_dir),
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**os.environ},
    )


async def _post(sender: RunningNode, receiver: RunningNode) -> httpx.Response:
    inbox = f"{receiver.url}/inbox"
    headers, body = signed(inbox, probe(sender), signer=sender)
    async with httpx.AsyncClient() as http:
        return await http.post(inbox, content=body, headers=headers)


async def test_config_peers_are_stored_and_their_pinned_keys_fetched(tmp_path: Path) -> None:
    async with node_pair(tmp_path, overrides=FAST) as (oldenburg, cholet):
        await wait_for(lambda: trusting(oldenburg, cholet), what="Oldenburg trusting Cholet")
        peer = await peer_row(oldenburg, cholet.config.actor_url)
        assert peer.source == "config"
        assert peer.inbox_url == f"{cholet.url}/inbox"
        assert peer.name == "Cholet"
        assert set(peer.config_fingerprints) == {
            fingerprint(cholet.keys.rsa),
            fingerprint(cholet.keys.ed25519),
        }
        assert oldenburg.app is not None
        from node.models import utcnow
        from node.peers import registry as repo

        async with oldenburg.app[appkeys.DATABASE].read() as session:
            keys = await repo.pinned_keys(session, peer.id, utcnow())
        assert {(k.algorithm, k.pinned_by) for k in keys} == {
            ("rsa", "config"),
            ("ed25519", "config"),
        }


async def test_keys_not_matching_the_pinned_fingerprints_are_not_trusted(tmp_path: Path) -> None:
    wrong = [fingerprint(generate_rsa_key(2048)), fingerprint(generate_ed25519_key())]

    def mispin(oldenburg: RunningNode, cholet: RunningNode) -> None:
        entry = {"actor_url": cholet.config.actor_url, "fingerprints": wrong}
        oldenburg.config = oldenburg.config.model_copy(
            update={"peers": [type(oldenburg.config.peers[0]).model_validate(entry)]}
        )

    async with node_pair(tmp_path, overrides=FAST, configure=mispin) as (oldenburg, cholet):

        async def fetched() -> bool:
            return (await peer_row(oldenburg, cholet.config.actor_url)).state == "untrusted"

        await wait_for(fetched, what="Oldenburg to fetch Cholet's actor")
        peer = await peer_row(oldenburg, cholet.config.actor_url)
        assert fingerprint(cholet.keys.rsa) in (peer.last_error or "")
        refused = await _post(cholet, oldenburg)
        assert refused.status_code == 401
        assert not await trusting(oldenburg, cholet)


async def test_peer_add_list_remove_retry_and_check(tmp_path: Path) -> None:
    log = ProbeLog()
    async with (
        scratch_database(tmp_path, "cholet") as cholet_db,
        scratch_database(tmp_path, "oldenburg") as oldenburg_db,
    ):
        cholet = await prepare_node(tmp_path, "cholet", cholet_db, overrides=FAST)
        # Oldenburg lists Cholet in its config but pins no fingerprint yet.
        oldenburg = await prepare_node(
            tmp_path,
            "oldenburg",
            oldenburg_db,
            overrides=FAST,
            peers=[{"actor_url": cholet.config.actor_url, "fingerprints": []}],
        )
        cholet.config = cholet.config.model_copy(
            update={
                "peers": [
                    type(oldenburg.config.peers[0]).model_validate(
                        {
                            "actor_url": oldenburg.config.actor_url,
                            "fingerprints": [fingerprint(oldenburg.keys.rsa)],
                        }
                    )
                ]
            }
        )
        await cholet.start(extensions=[probe_extension(log)])
        await oldenburg.start(extensions=[probe_extension(log)])
        try:
            config_file = write_config(oldenburg, tmp_path / "oldenburg.toml")
            check = await zwilling(config_file, oldenburg, "check")
            assert check.returncode == 1
            assert f"[!!] peer (config): {cholet.config.actor_url}" in check.stdout

            # Untrusted: the inbox refuses it, deliveries to it wait.
            assert (await _post(cholet, oldenburg)).status_code == 401
            held = probe(oldenburg, 1)
            await queue(oldenburg, cholet, [held])

            host = cholet.config.host
            refused = await zwilling(
                config_file, oldenburg, "peer", "add", f"acct:cholet@{host}", "--http"
            )
            assert refused.returncode != 0
            assert "--yes" in refused.stderr
            assert fingerprint(cholet.keys.rsa) in refused.stdout  # shown for comparison
            assert "Cholet" in refused.stdout
            assert (await _post(cholet, oldenburg)).status_code == 401

            mismatch = await zwilling(
                config_file,
                oldenburg,
                "peer",
                "add",
                cholet.url,
                "--yes",
                "--fingerprint",
                fingerprint(generate_ed25519_key()),
            )
            assert mismatch.returncode != 0 and "does not publish" in mismatch.stderr

            added = await zwilling(config_file, oldenburg, "peer", "add", cholet.url, "--yes")
            assert added.returncode == 0, added.stderr
            assert fingerprint(cholet.keys.ed25519) in added.stdout
            assert (await _post(cholet, oldenburg)).status_code == 202

            async def delivered() -> bool:
                return held["id"] in log.applied

            await wait_for(delivered, what="the held delivery once the peer is trusted")
            check = await zwilling(config_file, oldenburg, "check")
            assert f"[ok] peer (config): {cholet.config.actor_url}" in check.stdout
            assert "(database)" in check.stdout

            listing = await zwilling(config_file, oldenburg, "peer", "list")
            assert listing.returncode == 0, listing.stderr
            assert cholet.config.actor_url in listing.stdout
            assert "state reachable" in listing.stdout
            assert "queue: 0 waiting, 0 failed" in listing.stdout
            assert "last successful delivery: never" not in listing.stdout
            assert "pinned by admin" in listing.stdout

            # A delivery Cholet refuses is kept as failed; 'peer retry' queues it again.
            assert oldenburg.app is not None
            cholet_inbox_refuses = probe(oldenburg, 2, reject="not now")
            await queue(oldenburg, cholet, [cholet_inbox_refuses])

            async def failed() -> bool:
                return [r.state for r in await outbox_rows(oldenburg)][-1] == "failed"

            await wait_for(failed, what="the refused delivery to be kept as failed")
            listing = await zwilling(config_file, oldenburg, "peer", "list")
            assert "queue: 0 waiting, 1 failed" in listing.stdout
            retried = await zwilling(
                config_file, oldenburg, "peer", "retry", cholet.config.actor_url
            )
            assert retried.returncode == 0 and "1 failed deliveries queued again" in retried.stdout

            removed = await zwilling(
                config_file, oldenburg, "peer", "remove", cholet.config.actor_url, "--yes"
            )
            assert removed.returncode == 0, removed.stderr
            assert "still in the config file" in removed.stdout
            listing = await zwilling(config_file, oldenburg, "peer", "list")
            assert cholet.config.actor_url not in listing.stdout
        finally:
            await oldenburg.stop()
            await cholet.stop()


async def test_signed_get_and_peer_only_endpoints(tmp_path: Path) -> None:
    @require_peer_signature
    async def secret(request: web.Request, peer: Peer) -> web.Response:
        return web.json_response({"peer": peer.actor_url})

    def route(app: web.Application) -> None:
        app.router.add_get("/peer-only", secret)

    async with node_pair(tmp_path, overrides=FAST, extensions=[route]) as (oldenburg, cholet):
        await wait_for(lambda: trusting(oldenburg, cholet), what="Oldenburg trusting Cholet")
        assert cholet.app is not None
        document = await cholet.app[FETCHER](f"{oldenburg.url}/peer-only")
        assert document == {"peer": cholet.config.actor_url}
        async with httpx.AsyncClient() as http:
            unsigned = await http.get(f"{oldenburg.url}/peer-only")
            assert unsigned.status_code == 401
            assert "not signed" in unsigned.json()["error"]
            stranger = generate_rsa_key(2048)
            url = f"{oldenburg.url}/peer-only"
            headers = sign_request(
                "GET", url, {}, None, key_id="http://127.0.0.1:9/actor#k", private_key=stranger
            )
            forged = await http.get(url, headers=headers)
            assert forged.status_code == 401
