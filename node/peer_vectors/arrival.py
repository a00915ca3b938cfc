"""A peer's vector as it arrives, checked before anything is stored: its shape, its
origin and the integrity proof of the document that carried it.

* a vector whose ``id`` is not on the sending peer's origin is refused (a node speaks
  only for its own residents);
* codes this node's vocabularies do not know fall back to a known parent or are
  dropped, and the parse says how many, because that usually means the peers run
  different taxonomy versions and an admin should know (``store`` counts them);
* a document's proof must verify with one of the peer's pinned Ed25519 keys and name
  a key on the peer's origin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.ext.asyncio import AsyncSession

from federation.activities import origin
from federation.keys import cached_public_key
from federation.proofs import ProofError, verify_proof
from matching.languages import load_languages
from matching.occupations import load_occupations
from matching.profile import InterestProfile
from matching.taxonomy import load_taxonomy
from matching.wire import ProfileFormatError, profile_from_json
from node.models import Peer, utcnow
from node.peers import registry as peer_repo


class ForeignProfile(ValueError):
    """A vector whose id is on another origin than the peer that sent it (403)."""


def parse_profile(obj: object, peer: Peer) -> tuple[InterestProfile, int]:
    """Validate a peer's ``InterestProfile``; ProfileFormatError (400) or ForeignProfile
    (403). Returns the profile (unknown codes normalised) and how many codes changed."""
    profile, dropped = profile_from_json(obj, load_taxonomy(), load_occupations(), load_languages())
    if not profile.updated:
        raise ProfileFormatError("updated is required")
    if origin(profile.id) != peer.origin:
        raise ForeignProfile(f"{profile.id[:120]} is not on the origin of {peer.actor_url}")
    return profile, dropped


MAX_SEQUENCE = 2**63 - 1


def parse_sequence(obj: Mapping[str, object]) -> int:
    """The ``sequence`` of an ``InterestProfile`` or ``Tombstone``; ProfileFormatError (400)
    unless it is a non-negative integer."""
    value = obj.get("sequence")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEQUENCE:
        raise ProfileFormatError("sequence must be a non-negative integer")
    return value


def parse_moment(value: object) -> datetime | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


async def proof_keys(session: AsyncSession, peer: Peer) -> list[Ed25519PublicKey]:
    """The peer's pinned Ed25519 keys still in use (more than one during a rotation)."""
    keys = []
    for key in await peer_repo.pinned_keys(session, peer.id, utcnow()):
        if key.algorithm == "ed25519":
            public = cached_public_key(key.public_key_pem)
            if isinstance(public, Ed25519PublicKey):
                keys.append(public)
    return keys


def check_proof(
    document: Mapping[str, object],
    peer: Peer,
    keys: Sequence[Ed25519PublicKey],
    *,
    copy_result: bool = True,
) -> dict[str, Any]:
    """The document without its proof, if the proof verifies with one of ``keys`` and
    names a key on the peer's origin; ProofError otherwise. ``copy_result=False``: the
    result shares its values with ``document`` (see ``verify_proof``)."""
    proof = document.get("proof")
    method = proof.get("verificationMethod") if isinstance(proof, dict) else None
    if not isinstance(method, str) or not same_origin(method, peer.origin):
        raise ProofError("the proof's verificationMethod is not on the peer's origin")
    if not keys:
        raise ProofError("no Ed25519 key of this peer is pinned")
    problem = "proof does not verify"
    for key in keys:
        try:
            return verify_proof(document, key, copy_result=copy_result)
        except ProofError as exc:
            problem = exc.reason
    raise ProofError(problem)


# The keys each unit of work read, per peer: the inbox checks a whole batch of a
# peer's activities in one reading unit, and asking the database once is enough there.
# Entries go with their unit (weak keys).
_KEYS_READ: WeakKeyDictionary[AsyncSession, dict[int, list[Ed25519PublicKey]]] = WeakKeyDictionary()


async def verify_peer_proof(
    session: AsyncSession, peer: Peer, document: Mapping[str, object]
) -> None:
    """ProofError unless ``document``'s proof verifies with a pinned key of ``peer``.

    Only a verdict: the inbox goes on with the activity it parsed, so the document
    without its proof is not copied (a deep copy cost more than the signature check).
    """
    read = _KEYS_READ.setdefault(session, {})
    keys = read.get(peer.id)
    if keys is None:
        keys = read[peer.id] = await proof_keys(session, peer)
    check_proof(document, peer, keys, copy_result=False)


def same_origin(url: str, expected: str) -> bool:
    try:
        return origin(url) == expected
    except ValueError:
        return False
