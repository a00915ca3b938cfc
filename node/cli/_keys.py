"""``zwilling keys show | rotate``: the node's own keys."""

from __future__ import annotations

import argparse
import asyncio

from federation.keys import published_key_id
from node.cli._common import CommandError, add_command, config_from, database
from node.cli._maintenance import cmd_keys_show
from node.cli._serve import ensure_migrated
from node.federation import key_rotation
from node.runtime.config import Config
from node.runtime.keys import KeyFileError, NodeKeys, load_keys

ROTATE_HELP = """\
Generates a new RSA key for HTTP signatures, published under a new key id
(#main-key-<suffix>). The old key is kept as
keys/http-signature-rsa-retired-<timestamp>.pem. An Update of this node's actor
carrying the new key is queued to every peer, signed with the old key, so peers
learn the new key from a key they already trust; it goes out before anything
else queued for a peer. Everything else is signed when it is sent, with the new
key once the node runs with it. For federation.key_grace_days the actor still
lists the old key under its own id, and a 401 from a peer is retried rather than
final. Restart the node (and any 'zwilling worker') afterwards so it serves and
signs with the new key, then tell the partner admins the new fingerprint (they
may pin it early with 'zwilling peer add')."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = add_command(commands, "keys", "the node's own keys")
    actions = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    show = add_command(
        actions,
        "show",
        "print the key fingerprints to compare with the partner city's admins",
        "Prints this node's key ids and SHA256 fingerprints. Read them to the partner\n"
        "city's admins over a channel you trust (phone, signed mail); they pin them\n"
        "with 'zwilling peer add'.",
    )
    show.set_defaults(handler=cmd_keys_show)
    rotate = add_command(actions, "rotate", "replace the RSA signing key", ROTATE_HELP)
    rotate.set_defaults(handler=cmd_rotate)


def cmd_rotate(args: argparse.Namespace) -> int:
    config = config_from(args)
    try:
        keys = load_keys(config)
    except KeyFileError as exc:
        raise CommandError(str(exc)) from None
    rotation = asyncio.run(_rotate(config, keys))
    actor = config.actor_url
    print(
        f"old RSA key {published_key_id(actor, keys.rsa)} {rotation.old_fingerprint}"
        f" kept as {rotation.retired_file.name}"
    )
    new_keys = load_keys(config)
    print(f"new RSA key {new_keys.rsa_key_id(actor)} {rotation.new_fingerprint}")
    print(f"Update of the actor queued to {rotation.queued} peer(s), signed with the old key")
    print("restart the node (and any 'zwilling worker') to sign with the new key")
    return 0


async def _rotate(config: Config, keys: NodeKeys) -> key_rotation.Rotation:
    await ensure_migrated(config)
    async with database(config) as db:
        return await key_rotation.rotate(config, keys, db)
