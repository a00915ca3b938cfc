"""How this node's vectors look on the wire: the ``Update`` and ``Delete`` activities and
the pages of ``GET /vectors``, each signed with an object integrity proof (FEP-8b32,
eddsa-jcs-2022) so that a stored copy stays verifiable against the node's Ed25519 key.

:class:`Publisher` bundles what publishing needs (base URL, pseudonym secret, signing
key, k, vocabularies, and this process's generalisation index); it is built once per
app or command from config and keys.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, TypeVar, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation.documents import ACTIVITYSTREAMS_CONTEXT, DATA_INTEGRITY_CONTEXT
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
        return f"{self.actor_url}#ed25519-key"

    @property
    def context(self) -> list[str]:
        return [ACTIVITYSTREAMS_CONTEXT, DATA_INTEGRITY_CONTEXT, self.base_url + CONTEXT_PATH]

    def pseudonym_url(self, pseudonym: str) -> str:
        return pseudonyms.actor_url(self.base_url, pseudonym)

    def sign(self, document: DocumentT) -> DocumentT:
        return create_proof(document, self.signing_key, self.verification_method)


def publisher_for(config: Config, keys: NodeKeys) -> Publisher:
    return Publisher(
        base_url=config.node.base_url,
        secret=keys.secret,
        signing_key=keys.ed25519,
        k=config.matching.k_anonymity,
        taxonomy=load_taxonomy(),
        occupations=load_occupations(),
    )


def timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with microseconds: ``updated`` values order strictly per resident."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def wire_profile(vector: Mapping[str, Any], actor: str) -> WireProfile:
    """A stored published vector (kept without ``id``) as the object one peer receives."""
    body = {key: value for key, value in vector.items() if key not in ("type", "id")}
    # The stored vector is matching.wire.profile_to_json's object without its id (plus
    # ``updated``), so with type and id put back it is an InterestProfile.
    return cast(WireProfile, {"type": PROFILE_TYPE, "id": actor, **body})


def _activity_id(publisher: Publisher) -> str:
    return f"{publisher.base_url}/activities/{uuid.uuid4()}"


def update_activity(
    publisher: Publisher, peer_actor: str, pseudonym: str, vector: Mapping[str, Any], now: datetime
) -> UpdateProfile:
    actor = publisher.pseudonym_url(pseudonym)
    activity: UpdateProfile = {
        "@context": publisher.context,
        "id": _activity_id(publisher),
        "type": "Update",
        "actor": actor,
        "to": [peer_actor],
        "published": timestamp(now),
        "object": wire_profile(vector, actor),
    }
    return publisher.sign(activity)


def delete_activity(
    publisher: Publisher, peer_actor: str, pseudonym: str, deleted: datetime
) -> DeleteProfile:
    """The withdrawal of a pseudonym actor; ``deleted`` lets the receiver's tombstone tell a
    late ``Update`` (sent before) from a resumed profile (sent after)."""
    actor = publisher.pseudonym_url(pseudonym)
    activity: DeleteProfile = {
        "@context": publisher.context,
        "id": _activity_id(publisher),
        "type": "Delete",
        "actor": actor,
        "to": [peer_actor],
        "published": timestamp(deleted),
        "object": {
            "type": TOMBSTONE_TYPE,
            "id": actor,
            "formerType": "Person",
            "deleted": timestamp(deleted),
        },
    }
    return publisher.sign(activity)


def context_document() -> dict[str, Any]:
    """The JSON-LD context for the ``InterestProfile`` extension type and its terms."""
    vocab = "https://zwilling.example/ns#"
    return {
        "@context": {
            "zw": vocab,
            "InterestProfile": "zw:InterestProfile",
            "kind": "zw:kind",
            "interests": {"@id": "zw:interests", "@container": "@set"},
            "occupation": "zw:occupation",
            "languages": {"@id": "zw:languages", "@type": "@json"},
            "learning": {"@id": "zw:learning", "@container": "@set"},
            "ageBand": "zw:ageBand",
            "childrenAgeBands": {"@id": "zw:childrenAgeBands", "@container": "@set"},
        }
    }
