"""``zwilling sync [--peer URL]``: pull peers' full vector sets and reconcile."""

from __future__ import annotations

import argparse
import asyncio
from functools import partial

import httpx
from sqlalchemy import select

from node import VERSION
from node.cli._common import CommandError, add_command, config_from, database
from node.models import Peer
from node.peer_vectors.store import VectorStats
from node.peer_vectors.sync import SyncError, sync_peer
from node.peers.fetch import fetch_json
from node.peers.refresh import main_key_id
from node.runtime.config import Config
from node.runtime.keys import KeyFileError, load_keys

SYNC_HELP = """\
Fetches the complete set of anonymised interest vectors each peer publishes for
this node (signed GET /vectors, every page checked against the peer's pinned
Ed25519 key) and makes this node's copy equal to it: new and newer vectors are
stored, vectors the peer no longer lists are removed here.

The running node does this by itself when it holds nothing of a peer yet; use
this after a long outage or when an admin of the peer asks for it. A running
node notices the sync and recomputes the matches within a minute."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sync = add_command(commands, "sync", "pull peers' full vector sets and reconcile", SYNC_HELP)
    sync.add_argument("--peer", metavar="URL", help="only this peer (its actor URL)")
    sync.set_defaults(handler=cmd_sync)


def cmd_sync(args: argparse.Namespace) -> int:
    config = config_from(args)
    return asyncio.run(_sync(config, args.peer))


async def _sync(config: Config, only: str | None) -> int:
    try:
        keys = load_keys(config)
    except KeyFileError as exc:
        raise CommandError(str(exc)) from None
    federation = config.federation
    timeout = httpx.Timeout(
        federation.read_timeout_seconds, connect=federation.connect_timeout_seconds
    )
    failures = 0
    async with (
        database(config) as db,
        httpx.AsyncClient(
            timeout=timeout,
            headers={"User-Agent": f"zwilling/{VERSION} (+{config.node.base_url})"},
        ) as client,
    ):
        async with db.read() as session:
            statement = select(Peer).order_by(Peer.id)
            if only:
                statement = statement.where(Peer.actor_url == only)
            peers = list((await session.scalars(statement)).all())
        if not peers:
            raise CommandError(
                f"no peer {only}" if only else "no peers known; start the node once or add one"
            )
        fetch = partial(fetch_json, client, key_id=main_key_id(config, keys), private_key=keys.rsa)
        stats = VectorStats()
        for peer in peers:
            try:
                result = await sync_peer(db, fetch, peer.id, stats)
            except SyncError as exc:
                failures += 1
                print(f"{peer.actor_url}: not synced: {exc}")
                continue
            outcome = result.reconciled
            print(
                f"{peer.actor_url}: {result.fetched} vectors in {result.pages} pages; "
                f"{outcome.stored} stored, {outcome.unchanged} unchanged, "
                f"{outcome.removed} removed, {outcome.blocked} blocked by tombstones, "
                f"{result.invalid} invalid, {outcome.dropped_codes} unknown codes"
            )
    return 1 if failures else 0
