"""Rotating the node's RSA key, and following a peer's rotation.

This node: ``zwilling keys rotate`` writes a new key, keeps the old one as
``http-signature-rsa-retired-<UTC timestamp>.pem`` and queues an ``Update`` of the
actor (carrying the new key) to every peer, signed with the OLD key, which peers
already trust. Rows queued before the rotation are also signed with the old key,
so that nothing reaches a peer under the new key before the ``Update`` has (the
outbox is first-in first-out per peer). The running node picks the new key up
when restarted.

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
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from sqlalchemy import update

from federation.documents import ACTIVITYSTREAMS_CONTEXT, actor_document
from federation.keys import fingerprint, generate_rsa_key, load_private_key_pem, public_key_pem
from federation.vocabulary import ServiceActor, UpdateService
from node.federation.outbox import enqueue_for_all_peers
from node.models import OutboxActivity, utcnow
from node.runtime.config import Config
from node.runtime.db import Database
from node.runtime.keys import RSA_FILE, NodeKeys, keys_dir

RETIRED_PREFIX = "http-signature-rsa-retired-"


def node_actor_document(config: Config, keys: NodeKeys) -> ServiceActor:
    return actor_document(
        base_url=config.node.base_url,
        slug=config.node.slug,
        city_name=config.node.city,
        rsa_public_pem=public_key_pem(keys.rsa),
        ed25519_public_key=keys.ed25519.public_key(),
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


def retired_keys(config: Config) -> dict[str, RSAPrivateKey]:
    """Retired RSA keys still on disk, by fingerprint (rows queued before a rotation)."""
    found: dict[str, RSAPrivateKey] = {}
    directory = keys_dir(config)
    for path in sorted(directory.glob(f"{RETIRED_PREFIX}*.pem")):
        try:
            key = load_private_key_pem(path.read_bytes())
        except (OSError, ValueError):
            continue
        if isinstance(key, RSAPrivateKey):
            found[fingerprint(key)] = key
    return found


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
    """
    now = now or utcnow()
    directory = keys_dir(config)
    current = directory / RSA_FILE
    retired = directory / f"{RETIRED_PREFIX}{now.strftime('%Y%m%dT%H%M%S%fZ')}.pem"
    staged = directory / f"{RSA_FILE}.new"
    old_fingerprint = keys.rsa_fingerprint
    new_key = generate_rsa_key()
    staged.unlink(missing_ok=True)
    _write_new(staged, new_key)
    new_keys = NodeKeys(rsa=new_key, ed25519=keys.ed25519, secret=keys.secret)
    actor = node_actor_document(config, new_keys)
    swapped = False
    try:
        async with db.write() as session:
            await session.execute(
                update(OutboxActivity)
                .where(
                    OutboxActivity.state.in_(("pending", "sending")),
                    OutboxActivity.sign_with.is_(None),
                )
                .values(sign_with=old_fingerprint)
                .execution_options(synchronize_session=False)
            )
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
