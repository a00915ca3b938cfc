"""Rotating the node's RSA key, and following a peer's rotation.

This node: ``zwilling keys rotate`` writes a new key, keeps the old one as
``http-signature-rsa-retired-<UTC time>.pem`` and queues an ``Update`` of the actor
(carrying the new key) to every peer, marked to be signed with the OLD key, which
peers already trust. That announcement goes before anything else queued for the
peer (``_outbox_claims``); every other row is signed when it is sent, with the key
the node runs with, under that key's own id. The running node picks the new key up
when restarted.

Each key has its own id (``#main-key-<suffix>``, ``federation.keys.published_key_id``),
so the two keys never share one. For ``key_grace_days`` after the rotation the
served actor lists the retired key after the current one: a peer that verifies by
fetching the key a signature names (rather than pinning) still finds the old key
while the announcement is on its way, and a 401 from a peer counts as "not yet"
(retried with backoff) rather than final. The ``Update`` itself carries only the new
key, because a receiver retires whatever keys the announced actor no longer lists.

A peer: an ``Update`` of its ``Service`` actor that arrived signed with a key
pinned for that peer pins the keys the document now publishes and starts the
grace period (``key_grace_days``) of the ones it no longer lists. A signature
by the new key is accepted from then on, and not before — unless an admin pinned
it with ``zwilling peer add``.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from federation.documents import ACTIVITYSTREAMS_CONTEXT, actor_document
from federation.keys import fingerprint, generate_rsa_key, public_key_pem
from federation.vocabulary import ServiceActor, UpdateService
from node.federation.outbox import enqueue_for_all_peers
from node.models import utcnow
from node.runtime.config import Config
from node.runtime.db import Database
from node.runtime.keys import (
    RETIRED_PREFIX,
    RSA_FILE,
    NodeKeys,
    RetiredKey,
    keys_dir,
    retired_file_name,
)

__all__ = [
    "RETIRED_PREFIX",
    "Rotation",
    "actor_update",
    "in_grace",
    "in_rotation_grace",
    "node_actor_document",
    "rotate",
]


def _grace(config: Config) -> timedelta:
    return timedelta(days=config.federation.key_grace_days)


def in_grace(config: Config, keys: NodeKeys, now: datetime) -> list[RetiredKey]:
    """Retired keys still published: rotated out less than ``key_grace_days`` ago."""
    return keys.retired_since(now - _grace(config))


def in_rotation_grace(config: Config, keys: NodeKeys, now: datetime) -> bool:
    """Whether the node's last rotation is recent enough that a peer may not know the
    new key yet (a 401 from it is then retried, not final)."""
    last = keys.last_rotation
    return last is not None and now - last < _grace(config)


def node_actor_document(
    config: Config,
    keys: NodeKeys,
    now: datetime | None = None,
    *,
    with_retired: bool = True,
) -> ServiceActor:
    """The actor as served: the current key, then the retired ones still in grace."""
    retired = in_grace(config, keys, now or utcnow()) if with_retired else []
    return actor_document(
        base_url=config.node.base_url,
        slug=config.node.slug,
        city_name=config.node.city,
        rsa_public_pem=public_key_pem(keys.rsa),
        ed25519_public_key=keys.ed25519.public_key(),
        retired_rsa_public_pems=[public_key_pem(key.rsa) for key in retired],
    )


def actor_update(
    config: Config, actor: ServiceActor, peer_actor: str, now: datetime
) -> UpdateService:
    """The ``Update`` that announces the node's actor document (``actor``) to one peer."""
    return {
        "@context": ACTIVITYSTREAMS_CONTEXT,
        "id": f"{config.node.base_url}/activities/{uuid.uuid4()}",
        "type": "Update",
        "actor": config.actor_url,
        "to": [peer_actor],
        "published": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "object": actor,
    }


@dataclass(frozen=True)
class Rotation:
    old_fingerprint: str
    new_fingerprint: str
    retired_file: Path
    queued: int


def _write_new(path: Path, key: RSAPrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)


async def rotate(
    config: Config,
    keys: NodeKeys,
    db: Database,
    *,
    now: datetime | None = None,
) -> Rotation:
    """Swap in a new RSA key and queue the announcing ``Update`` in one step.

    The files are swapped inside the database transaction; if the commit fails,
    the old key is put back, so the node never signs with a key nobody was told of.
    Rows already queued are left alone: they are signed when sent, with the key the
    node then runs with, after the announcement.
    """
    now = now or utcnow()
    directory = keys_dir(config)
    current = directory / RSA_FILE
    retired = directory / retired_file_name(now)
    staged = directory / f"{RSA_FILE}.new"
    old_fingerprint = keys.rsa_fingerprint
    new_key = generate_rsa_key()
    staged.unlink(missing_ok=True)
    _write_new(staged, new_key)
    new_keys = NodeKeys(rsa=new_key, ed25519=keys.ed25519, secret=keys.secret)
    # Only the new key: the receiver retires, after its grace, what the Update omits.
    actor = node_actor_document(config, new_keys, now, with_retired=False)
    swapped = False
    try:
        async with db.write() as session:
            rows = await enqueue_for_all_peers(
                session,
                lambda peer: actor_update(config, actor, peer.actor_url, now),
                sign_with=old_fingerprint,
            )
            os.link(current, retired)
            os.replace(staged, current)
            swapped = True
    except BaseException:
        if swapped:
            os.replace(retired, current)
        staged.unlink(missing_ok=True)
        raise
    return Rotation(
        old_fingerprint=old_fingerprint,
        new_fingerprint=fingerprint(new_key),
        retired_file=retired,
        queued=len(rows),
    )
