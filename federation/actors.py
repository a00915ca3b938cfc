"""Reading a peer's actor document: where its inbox is and which keys it publishes.

A fetched document proves nothing by itself (anyone can serve JSON); its keys
become trusted only when the node pins them by fingerprint. This module only
extracts them, refusing documents whose keys or inbox belong to another origin
so that one host cannot publish keys in another's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from federation.activities import MAX_URL_LENGTH, origin
from federation.keys import (
    MIN_RSA_BITS,
    PublicKey,
    fingerprint,
    load_public_key_pem,
    parse_multikey,
    public_key_pem,
)

__all__ = ["ActorError", "ActorInfo", "ActorKey", "parse_actor"]

KeyAlgorithm = Literal["rsa", "ed25519"]


class ActorError(ValueError):
    """The document is not a usable actor; the message says what is wrong."""


@dataclass(frozen=True)
class ActorKey:
    key_id: str
    algorithm: KeyAlgorithm
    public_key: PublicKey = field(repr=False)
    pem: str = field(repr=False)
    fingerprint: str = ""


@dataclass(frozen=True)
class ActorInfo:
    id: str
    type: str
    name: str | None
    preferred_username: str | None
    inbox: str
    keys: tuple[ActorKey, ...]

    @property
    def origin(self) -> str:
        return origin(self.id)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _same_origin_url(value: Any, where: str, actor_origin: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_URL_LENGTH:
        raise ActorError(f"{where} must be a URL string")
    try:
        value_origin = origin(value)
    except ValueError as exc:
        raise ActorError(f"{where}: {exc}") from None
    if value_origin != actor_origin:
        raise ActorError(f"{where} {value} is not on the actor's origin {actor_origin}")
    return value


def _key(key_id: str, algorithm: KeyAlgorithm, public: PublicKey) -> ActorKey:
    return ActorKey(
        key_id=key_id,
        algorithm=algorithm,
        public_key=public,
        pem=public_key_pem(public),
        fingerprint=fingerprint(public),
    )


def _rsa_keys(document: dict[str, Any], actor_id: str, actor_origin: str) -> list[ActorKey]:
    keys = []
    for entry in _as_list(document.get("publicKey")):
        if not isinstance(entry, dict):
            continue
        key_id = _same_origin_url(entry.get("id"), "publicKey.id", actor_origin)
        if entry.get("owner", actor_id) != actor_id:
            raise ActorError(f"publicKey {key_id} is owned by another actor")
        pem = entry.get("publicKeyPem")
        if not isinstance(pem, str):
            raise ActorError(f"publicKey {key_id} has no publicKeyPem")
        try:
            public = load_public_key_pem(pem)
        except ValueError as exc:
            raise ActorError(f"publicKey {key_id}: {exc}") from None
        if isinstance(public, rsa.RSAPublicKey):
            if public.key_size < MIN_RSA_BITS:
                raise ActorError(f"publicKey {key_id} is RSA-{public.key_size}, too short")
            keys.append(_key(key_id, "rsa", public))
        elif isinstance(public, ed25519.Ed25519PublicKey):
            keys.append(_key(key_id, "ed25519", public))
    return keys


def _multikeys(document: dict[str, Any], actor_id: str, actor_origin: str) -> list[ActorKey]:
    keys = []
    for entry in _as_list(document.get("assertionMethod")):
        if not isinstance(entry, dict) or entry.get("type") != "Multikey":
            continue
        key_id = _same_origin_url(entry.get("id"), "assertionMethod.id", actor_origin)
        if entry.get("controller", actor_id) != actor_id:
            raise ActorError(f"assertionMethod {key_id} is controlled by another actor")
        try:
            public = parse_multikey(entry.get("publicKeyMultibase"))
        except ValueError as exc:
            raise ActorError(f"assertionMethod {key_id}: {exc}") from None
        keys.append(_key(key_id, "ed25519", public))
    return keys


def parse_actor(document: object, expected_id: str | None = None) -> ActorInfo:
    """Extract id, inbox and keys; ActorError when the document cannot be used."""
    if not isinstance(document, dict):
        raise ActorError("actor document is not a JSON object")
    actor_id = document.get("id")
    if not isinstance(actor_id, str):
        raise ActorError("actor document has no id")
    try:
        actor_origin = origin(actor_id)
    except ValueError as exc:
        raise ActorError(f"actor id: {exc}") from None
    if expected_id is not None and actor_id != expected_id:
        raise ActorError(f"actor document at {expected_id} names itself {actor_id}")
    kind = document.get("type")
    if not isinstance(kind, str):
        raise ActorError("actor document has no type")
    inbox = document.get("inbox")
    endpoints = document.get("endpoints")
    if isinstance(endpoints, dict) and isinstance(endpoints.get("sharedInbox"), str):
        inbox = endpoints["sharedInbox"]
    inbox = _same_origin_url(inbox, "inbox", actor_origin)
    name = document.get("name")
    username = document.get("preferredUsername")
    return ActorInfo(
        id=actor_id,
        type=kind,
        name=name[:200] if isinstance(name, str) else None,
        preferred_username=username[:100] if isinstance(username, str) else None,
        inbox=inbox,
        keys=tuple(
            _rsa_keys(document, actor_id, actor_origin)
            + _multikeys(document, actor_id, actor_origin)
        ),
    )
