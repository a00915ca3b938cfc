"""How this node's vectors look on the wire: the ``Update`` and ``Delete`` activities and
the pages of ``GET /vectors``, each signed with an object integrity proof (FEP-8b32,
eddsa-jcs-2022) so that a stored copy stays verifiable against the node's Ed25519 key.

Three different things leave as a ``Delete``, told apart by the ``Tombstone``'s
``formerType``: ``InterestProfile`` withdraws the profile only (paused, suspended, or
superseded by a reset; contacts continue under the pseudonym), ``Person`` deletes the
pseudonym actor (the account is gone). Every vector activity carries the pseudonym's
``sequence`` number, by which the receiver orders them.

Every instant a vector activity carries (``updated``, ``published``, ``deleted``, the
proof's ``created``) is the day only: the same change reaches every peer, and an exact
instant would be a join key between their copies.

:class:`Publisher` bundles what publishing needs (base URL, pseudonym secret, signing
key, k, vocabularies, and this process's generalisation index); it is built once per
app or command from config and keys.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any, Final, TypeVar, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation.documents import (
    ACTIVITYSTREAMS_CONTEXT,
    DATA_INTEGRITY_CONTEXT,
    EXTENSION_CONTEXT,
)
from federation.keys import published_key_id
from federation.proofs import create_proof
from federation.vocabulary import DeleteProfile, UpdateProfile
from federation.vocabulary import InterestProfile as WireProfile
from matching.occupations import Occupations, load_occupations
from matching.taxonomy import Taxonomy, load_taxonomy
from matching.wire import PROFILE_TYPE
from node import pseudonyms
from node.runtime.config import Config
from node.runtime.keys import NodeKeys
from node.vectors._population import PopulationCache

CONTEXT_PATH = "/ns/zwilling"
TOMBSTONE_TYPE: Final = "Tombstone"
PROFILE_DELETED: Final = "InterestProfile"  # formerType: the profile is withdrawn
ACTOR_DELETED: Final = "Person"  # formerType: the pseudonym actor is deleted

DocumentT = TypeVar("DocumentT", bound=Mapping[str, object])


@dataclass(frozen=True, slots=True)
class Publisher:
    base_url: str
    secret: bytes
    signing_key: Ed25519PrivateKey
    k: int
    taxonomy: Taxonomy
    occupations: Occupations
    population: PopulationCache = field(default_factory=PopulationCache, compare=False)

    @property
    def actor_url(self) -> str:
        return f"{self.base_url}/actor"

    @property
    def verification_method(self) -> str:
        return published_key_id(self.actor_url, self.signing_key)

    @property
    def context(self) -> list[str | dict[str, Any]]:
        """ActivityStreams, the proof's terms, and this product's terms embedded, so that
        a JSON-LD reader expands every vector document without fetching from a node."""
        return [ACTIVITYSTREAMS_CONTEXT, DATA_INTEGRITY_CONTEXT, EXTENSION_CONTEXT]

    def pseudonym_url(self, pseudonym: str) -> str:
        return pseudonyms.actor_url(self.base_url, pseudonym)

    def sign(self, document: DocumentT, moment: datetime | None = None) -> DocumentT:
        """Signed; the proof's ``created`` is the day of ``moment`` (now if None)."""
        return create_proof(
            document,
            self.signing_key,
            self.verification_method,
            created=day_start(moment or datetime.now(UTC)),
        )


def publisher_for(config: Config, keys: NodeKeys) -> Publisher:
    return Publisher(
        base_url=config.node.base_url,
        secret=keys.secret,
        signing_key=keys.ed25519,
        k=config.matching.k_anonymity,
        taxonomy=load_taxonomy(),
        occupations=load_occupations(),
    )


def day_start(moment: datetime) -> datetime:
    """Midnight (UTC) of the day of ``moment``."""
    return datetime.combine(moment.astimezone(UTC).date(), time(), tzinfo=UTC)


def timestamp(moment: datetime) -> str:
    """The day of ``moment`` as an ISO 8601 timestamp with zone (``2026-12-01T00:00:00Z``):
    what receivers parse as ``updated``, no finer than a day."""
    return day_start(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def wire_profile(
    vector: Mapping[str, Any],
    actor: str,
    updated: datetime | None = None,
    sequence: int | None = None,
) -> WireProfile:
    """A stored published vector (kept without ``id``) as the object one peer receives,
    with its ``updated`` day and the pseudonym's ``sequence`` when given."""
    body = {key: value for key, value in vector.items() if key not in ("type", "id")}
    # The stored vector is matching.wire.profile_to_json's object without its id and
    # ``updated``, so with these put back it is an InterestProfile.
    document: dict[str, Any] = {"type": PROFILE_TYPE, "id": actor, **body}
    if updated is not None:
        document["updated"] = timestamp(updated)
    if sequence is not None:
        document["sequence"] = sequence
    return cast(WireProfile, document)


def _activity_id(publisher: Publisher) -> str:
    return f"{publisher.base_url}/activities/{uuid.uuid4()}"


def update_activity(
    publisher: Publisher,
    peer_actor: str,
    pseudonym: str,
    vector: Mapping[str, Any],
    *,
    updated: datetime,
    sequence: int,
    now: datetime,
) -> UpdateProfile:
    actor = publisher.pseudonym_url(pseudonym)
    activity: UpdateProfile = {
        "@context": publisher.context,
        "id": _activity_id(publisher),
        "type": "Update",
        "actor": actor,
        "to": [peer_actor],
        "published": timestamp(now),
        "object": wire_profile(vector, actor, updated, sequence),
    }
    return publisher.sign(activity, now)


def delete_activity(
    publisher: Publisher,
    peer_actor: str,
    pseudonym: str,
    *,
    actor_deleted: bool,
    sequence: int,
    now: datetime,
) -> DeleteProfile:
    """The withdrawal of the profile published under a pseudonym, or (``actor_deleted``)
    of the pseudonym actor itself. ``sequence`` lets the receiver's tombstone tell a late
    ``Update`` (sent before) from a resumed profile (sent after)."""
    actor = publisher.pseudonym_url(pseudonym)
    activity: DeleteProfile = {
        "@context": publisher.context,
        "id": _activity_id(publisher),
        "type": "Delete",
        "actor": actor,
        "to": [peer_actor],
        "published": timestamp(now),
        "object": {
            "type": TOMBSTONE_TYPE,
            "id": actor,
            "formerType": ACTOR_DELETED if actor_deleted else PROFILE_DELETED,
            "deleted": timestamp(now),
            "sequence": sequence,
        },
    }
    return publisher.sign(activity, now)


def context_document() -> dict[str, Any]:
    """The JSON-LD context of this product's terms, as served at ``/ns``.

    Documents embed the same object rather than linking here, so nothing needs this
    URL to read them; it is for people and tools that look the terms up. The term
    IRIs are the same on every node (``federation.documents.EXTENSION_NAMESPACE``).
    """
    return {"@context": dict(EXTENSION_CONTEXT)}
