"""Two-factor secrets sealed at rest, so that a copy of the database alone cannot
generate a resident's codes.

A TOTP secret is stored as ``v1:`` and the URL-safe base64 of a 96-bit nonce and its
AES-256-GCM ciphertext. The key is derived with HKDF-SHA256 from the node secret
(which lives in the key directory, not the database) under a label of its own, so it
can never stand in for a pseudonym or a cookie seal. The resident's id is the
associated data: a sealed value copied to another resident's row does not open.

Rows written before secrets were sealed hold the base32 secret as it is. They are
sealed when the node starts (``seal_plain_secrets``), not on the next accepted code:
a code check reaches only residents who sign in, while the point is that no dump of
the database carries a usable secret — including those of residents who seldom sign
in and set-ups that were never finished. The migration cannot do it, having no key.
Until then ``open`` reads the plain form too.

Changing the node secret makes every sealed secret unreadable (``UnreadableSecret``):
a set-up in progress simply starts over, an enabled one needs a recovery code or
``zwilling admin reset-two-factor`` (docs/web.md).
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from node.models import TwoFactor

log = logging.getLogger(__name__)

VERSION = "v1:"
_INFO = b"zwilling two-factor secret v1"
_NONCE_BYTES = 12
_BASE32 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567=")


class UnreadableSecret(ValueError):
    """A stored secret this node cannot open: sealed under another node secret, for
    another resident, or altered."""


@dataclass(frozen=True, slots=True)
class SecretSeal:
    """Seals and opens the TOTP secrets of this node's residents."""

    _aead: AESGCM

    @classmethod
    def from_node_secret(cls, node_secret: bytes) -> SecretSeal:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(node_secret)
        return cls(AESGCM(key))

    def seal(self, secret: str, resident_id: int) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, secret.encode("ascii"), _bound_to(resident_id))
        return VERSION + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, stored: str, resident_id: int) -> str:
        """The base32 secret of ``resident_id``'s row; a row from before sealing is
        returned as it is."""
        if is_plain(stored):
            return stored
        if not stored.startswith(VERSION):
            raise UnreadableSecret(f"two-factor secret of resident {resident_id}: unknown form")
        try:
            raw = base64.urlsafe_b64decode(stored[len(VERSION) :].encode("ascii"))
            nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
            return self._aead.decrypt(nonce, sealed, _bound_to(resident_id)).decode("ascii")
        except (binascii.Error, UnicodeError, ValueError, InvalidTag):
            raise UnreadableSecret(
                f"two-factor secret of resident {resident_id} does not open with this"
                " node secret (changed node secret, or the row was copied or altered)"
            ) from None


def is_plain(stored: str) -> bool:
    """Whether ``stored`` is a base32 secret from before sealing."""
    return bool(stored) and set(stored) <= _BASE32


def _bound_to(resident_id: int) -> bytes:
    return f"two-factor\n{resident_id}".encode("ascii")


async def seal_plain_secrets(session: AsyncSession, seal: SecretSeal) -> int:
    """Seal every secret still stored as it is; the number sealed. Idempotent, and
    safe beside another process doing the same: a row is only replaced while it
    still holds the plain secret that was read."""
    rows = await session.execute(
        select(TwoFactor.resident_id, TwoFactor.secret).where(
            TwoFactor.secret.not_like(f"{VERSION}%")
        )
    )
    sealed = 0
    for resident_id, stored in rows.all():
        if not is_plain(stored):
            continue
        await session.execute(
            update(TwoFactor)
            .where(TwoFactor.resident_id == resident_id, TwoFactor.secret == stored)
            .values(secret=seal.seal(stored, resident_id))
            .execution_options(synchronize_session=False)
        )
        sealed += 1
    if sealed:
        log.info("two-factor secrets sealed", extra={"count": sealed})
    return sealed
