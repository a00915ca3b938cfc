"""``zwilling peer add | list | remove | retry``: the partner nodes and their pinned keys."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime

import httpx

from federation.actors import ActorInfo, ActorKey
from node import VERSION
from node.cli._common import CommandError, add_command, config_from, database
from node.models import utcnow
from node.peers import admin as peer_admin
from node.peers import registry as repo
from node.peers.refresh import main_key_id
from node.runtime.config import Config
from node.runtime.keys import KeyFileError, load_keys

ADD_HELP = """\
Looks the peer node up (WebFinger for acct:slug@host or https://host, or its
actor URL directly), prints its name and key fingerprints, and after you
confirm pins those keys in this node's database.

Compare the fingerprints with what the partner city's admin reads to you from
'zwilling keys show' on their node, over a channel you trust, BEFORE confirming.

Peers pinned here add to the [[peers]] of the config file; they do not replace
them. A config peer without fingerprints becomes trusted this way too.
Without a terminal to ask on, the command refuses unless --yes is given; with
--fingerprint it pins only the keys with those fingerprints and fails if the
peer does not publish them."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    peer = add_command(commands, "peer", "the partner nodes this node federates with")
    actions = peer.add_subparsers(dest="peer_command", metavar="ACTION", required=True)

    add = add_command(actions, "add", "look a peer up and pin its keys", ADD_HELP)
    add.add_argument("target", metavar="URL", help="acct:slug@host, https://host or actor URL")
    add.add_argument("--yes", action="store_true", help="pin without asking (for scripts)")
    add.add_argument(
        "--fingerprint",
        action="append",
        default=[],
        metavar="SHA256:…",
        help="pin only this key (repeatable); the peer must publish it",
    )
    add.add_argument(
        "--http",
        action="store_true",
        help="use http:// for an acct:slug@host lookup (local test setups only)",
    )
    add.set_defaults(handler=cmd_add)

    listing = add_command(
        actions,
        "list",
        "show each peer: state, pinned keys, last successful delivery, queue",
    )
    listing.set_defaults(handler=cmd_list)

    remove = add_command(
        actions,
        "remove",
        "forget a peer: its pinned keys and its queued deliveries",
        "Deletes the peer, its pinned keys and every delivery still queued for it.\n"
        "A peer listed in the config file comes back (untrusted unless the file pins\n"
        "its fingerprints) at the next start: remove it from the file as well.",
    )
    remove.add_argument("target", metavar="URL", help="the peer's actor URL (or its address)")
    remove.add_argument("--yes", action="store_true", help="remove without asking")
    remove.set_defaults(handler=cmd_remove)

    retry = add_command(
        actions,
        "retry",
        "queue a peer's failed deliveries again",
        "Deliveries a peer refused (a 4xx, e.g. before its admin had pinned this\n"
        "node's key) or that were retried for longer than delivery_max_age_hours are\n"
        "kept as failed. Once the cause is fixed, this queues them again, in order.",
    )
    retry.add_argument("target", metavar="URL", help="the peer's actor URL (or its address)")
    retry.set_defaults(handler=cmd_retry)


def _confirm(question: str, assume_yes: bool) -> None:
    if assume_yes:
        return
    if not sys.stdin.isatty():
        raise CommandError(
            "nothing pinned: no terminal to confirm on; compare the fingerprints, then "
            "run again with --yes"
        )
    answer = input(f"{question} [y/N] ").strip().lower()
    if answer not in ("y", "yes", "j", "ja", "o", "oui"):
        raise CommandError("nothing changed")


def _print_actor(actor: ActorInfo) -> None:
    print(f"peer: {actor.name or actor.preferred_username or '(no name)'}")
    print(f"  actor  {actor.id}")
    print(f"  inbox  {actor.inbox}")
    for key in actor.keys:
        label = "RSA" if key.algorithm == "rsa" else "Ed25519"
        print(f"  key    {key.key_id}  {label:<8} {key.fingerprint}")


def _chosen(actor: ActorInfo, wanted: list[str]) -> list[ActorKey]:
    if not actor.keys:
        raise CommandError(f"{actor.id} publishes no usable key; nothing to pin")
    if not wanted:
        return list(actor.keys)
    published = {key.fingerprint for key in actor.keys}
    missing = [fp for fp in wanted if fp not in published]
    if missing:
        raise CommandError(
            f"{actor.id} does not publish {', '.join(missing)}; nothing pinned "
            "(check the fingerprint with the partner's admin)"
        )
    return [key for key in actor.keys if key.fingerprint in wanted]


def cmd_add(args: argparse.Namespace) -> int:
    config = config_from(args)
    actor = asyncio.run(_discover(config, args.target, "http" if args.http else "https"))
    if actor.id.startswith(config.node.base_url + "/"):
        raise CommandError("that is this node itself")
    _print_actor(actor)
    keys = _chosen(actor, args.fingerprint)
    _confirm(f"Pin {len(keys)} key(s) of {actor.id}?", args.yes)
    asyncio.run(_pin(config, actor, keys))
    print(f"pinned {len(keys)} key(s); {actor.id} is a trusted peer now")
    return 0


async def _discover(config: Config, target: str, scheme: str) -> ActorInfo:
    try:
        keys = load_keys(config)
    except KeyFileError as exc:
        raise CommandError(str(exc)) from None
    signer = peer_admin.Signer(main_key_id(config, keys), keys.rsa)
    federation = config.federation
    timeout = httpx.Timeout(
        federation.read_timeout_seconds, connect=federation.connect_timeout_seconds
    )
    headers = {"User-Agent": f"zwilling/{VERSION} (+{config.node.base_url})"}
    async with httpx.AsyncClient(timeout=timeout, headers=headers) as client:
        try:
            return await peer_admin.discover(client, target, signer, scheme=scheme)
        except peer_admin.PeerLookupError as exc:
            raise CommandError(f"peer lookup failed: {exc}") from None


async def _pin(config: Config, actor: ActorInfo, keys: list[ActorKey]) -> None:
    async with database(config) as db, db.write() as session:
        await peer_admin.pin_peer(session, actor, keys, utcnow())


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "never"


def cmd_list(args: argparse.Namespace) -> int:
    config = config_from(args)
    asyncio.run(_list(config))
    return 0


async def _list(config: Config) -> None:
    now = utcnow()
    async with database(config) as db, db.read() as session:
        rows = await repo.overview(session, now)
    if not rows:
        print("no peers (add [[peers]] to the config file, or run 'zwilling peer add URL')")
        return
    for row in rows:
        peer = row.peer
        trusted = "trusted" if row.keys else "NOT TRUSTED (no pinned key)"
        print(f"{peer.actor_url}  {peer.name or ''}")
        print(f"  source {peer.source}, state {peer.state}, {trusted}")
        print(f"  last successful delivery: {_when(peer.last_success_at)}")
        print(f"  queue: {row.queued} waiting, {row.failed} failed")
        if peer.failing_since:
            print(
                f"  failing since {_when(peer.failing_since)}, "
                f"next attempt {_when(peer.next_attempt_at)}"
            )
        for key in row.keys:
            retiring = f", retires {_when(key.retires_at)}" if key.retires_at else ""
            print(f"  key {key.fingerprint} ({key.algorithm}, pinned by {key.pinned_by}{retiring})")
        if peer.last_error:
            print(f"  last error: {peer.last_error[:300]}")


def cmd_remove(args: argparse.Namespace) -> int:
    config = config_from(args)
    _confirm(f"Remove {args.target} and drop its queued deliveries?", args.yes)
    dropped, in_config = asyncio.run(_remove(config, args.target))
    print(f"removed {args.target}; {dropped} queued deliveries dropped")
    if in_config:
        print("note: it is still in the config file and comes back at the next start")
    return 0


async def _remove(config: Config, target: str) -> tuple[int, bool]:
    async with database(config) as db, db.write() as session:
        peer = await peer_admin.find(session, target)
        if peer is None:
            raise CommandError(f"no peer {target}")
        in_config = any(entry.actor_url == peer.actor_url for entry in config.peers)
        return await peer_admin.remove(session, peer), in_config


def cmd_retry(args: argparse.Namespace) -> int:
    config = config_from(args)
    count = asyncio.run(_retry(config, args.target))
    print(f"{count} failed deliveries queued again")
    return 0


async def _retry(config: Config, target: str) -> int:
    async with database(config) as db, db.write() as session:
        peer = await peer_admin.find(session, target)
        if peer is None:
            raise CommandError(f"no peer {target}")
        return await peer_admin.requeue_failed(session, peer, utcnow())
