"""The node's own key material on disk: created once by ``zwilling init``, readable
by the owner only, never overwritten.

Two key pairs, because the fediverse verifies HTTP signatures with RSA while object
integrity proofs (FEP-8b32) use Ed25519, plus a random secret that keys the
per-peer pseudonyms.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from federation.keys import (
    fingerprint,
    generate_ed25519_key,
    generate_rsa_key,
    load_private_key_pem,
    published_key_id,
)
from node.runtime.config import Config

RSA_FILE = "http-signature-rsa.pem"
ED25519_FILE = "object-proof-ed25519.pem"
SECRET_FILE = "node-secret"  # noqa: S105 - a file name, not a secret
# ``zwilling keys rotate`` keeps the replaced RSA key as <prefix><UTC time>.pem.
RETIRED_PREFIX = "http-signature-rsa-retired-"
RETIRED_TIME_FORMAT = "%Y%m%dT%H%M%S%fZ"


class KeyFileError(Exception):
    """Key files missing or unreadable; the message says which and what to do."""


@dataclass(frozen=True)
class RetiredKey:
    """An RSA key replaced by a rotation at ``retired_at``, kept to sign the ``Update``
    that announces its successor and published until its grace period ends."""

    rsa: RSAPrivateKey
    retired_at: datetime

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.rsa.public_key())


@dataclass(frozen=True)
class NodeKeys:
    rsa: RSAPrivateKey
    ed25519: Ed25519PrivateKey
    secret: bytes
    retired: tuple[RetiredKey, ...] = ()  # newest first

    @property
    def rsa_fingerprint(self) -> str:
        return fingerprint(self.rsa.public_key())

    @property
    def ed25519_fingerprint(self) -> str:
        return fingerprint(self.ed25519.public_key())

    def rsa_key_id(self, actor_url: str) -> str:
        """The id of the current RSA key, which every HTTP signature of this node names."""
        return published_key_id(actor_url, self.rsa)

    def ed25519_key_id(self, actor_url: str) -> str:
        """The id of the Ed25519 key, which every object proof names."""
        return published_key_id(actor_url, self.ed25519)

    @property
    def last_rotation(self) -> datetime | None:
        return self.retired[0].retired_at if self.retired else None

    def retired_key(self, wanted: str) -> RetiredKey | None:
        """The retired key with fingerprint ``wanted``, if it is still on disk."""
        return next((key for key in self.retired if key.fingerprint == wanted), None)

    def retired_since(self, moment: datetime) -> list[RetiredKey]:
        """Keys retired after ``moment`` (still in their grace period when ``moment``
        is now minus the grace), newest first."""
        return [key for key in self.retired if key.retired_at > moment]


def keys_dir(config: Config) -> Path:
    return config.path(config.node.keys_dir)


def _write_private(path: Path, data: bytes) -> bool:
    """Create ``path`` with mode 0600 unless it exists; True when it was written."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    return True


def _pem(key: RSAPrivateKey | Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def ensure_keys(config: Config) -> list[str]:
    """Generate whatever key file is missing; return the names of files created."""
    directory = keys_dir(config)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    created = []
    if _write_private(directory / RSA_FILE, _pem(generate_rsa_key())):
        created.append(RSA_FILE)
    if _write_private(directory / ED25519_FILE, _pem(generate_ed25519_key())):
        created.append(ED25519_FILE)
    if config.node.secret is None and _write_private(
        directory / SECRET_FILE, secrets.token_hex(32).encode()
    ):
        created.append(SECRET_FILE)
    return created


def load_keys(config: Config) -> NodeKeys:
    directory = keys_dir(config)

    def read(name: str) -> bytes:
        try:
            return (directory / name).read_bytes()
        except OSError as exc:
            raise KeyFileError(
                f"{directory / name}: cannot read ({exc.strerror}); run 'zwilling init'"
            ) from None

    rsa = load_private_key_pem(read(RSA_FILE))
    ed = load_private_key_pem(read(ED25519_FILE))
    if not isinstance(rsa, RSAPrivateKey) or not isinstance(ed, Ed25519PrivateKey):
        raise KeyFileError(f"{directory}: key files hold the wrong key types")
    secret = (config.node.secret or read(SECRET_FILE).decode()).strip().encode()
    return NodeKeys(rsa=rsa, ed25519=ed, secret=secret, retired=retired_keys(directory))


def retired_file_name(moment: datetime) -> str:
    return f"{RETIRED_PREFIX}{moment.astimezone(UTC).strftime(RETIRED_TIME_FORMAT)}.pem"


def retired_keys(directory: Path) -> tuple[RetiredKey, ...]:
    """Retired RSA keys on disk, newest first; a file that is not one is skipped.

    The time of the rotation is in the file name, written by the rotation itself, so
    it survives copying the directory (a file's mtime would not).
    """
    found = []
    for path in directory.glob(f"{RETIRED_PREFIX}*.pem"):
        stamp = path.name[len(RETIRED_PREFIX) : -len(".pem")]
        try:
            retired_at = datetime.strptime(stamp, RETIRED_TIME_FORMAT).replace(tzinfo=UTC)
            key = load_private_key_pem(path.read_bytes())
        except (OSError, ValueError):
            continue
        if isinstance(key, RSAPrivateKey):
            found.append(RetiredKey(rsa=key, retired_at=retired_at))
    return tuple(sorted(found, key=lambda key: key.retired_at, reverse=True))
