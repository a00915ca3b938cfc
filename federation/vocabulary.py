"""The activities this product sends, as types, so builders and readers agree on one shape.

They are TypedDicts rather than classes because an activity is signed, stored and
sent as the very JSON object it is built as: a TypedDict is that plain dict at
runtime, so typing a builder changes no byte on the wire and no code that reads
it with ``activity["object"]`` or ``.get(...)``.

These describe what a node of this product builds. What a peer sends is only
checked for the generic shape (:func:`federation.activities.parse_activity`);
each handler checks the rest of its own kind, so an incoming document must not
be treated as one of these types merely because its ``type`` matches.

Keys that are not Python identifiers (``@context``) force the functional syntax
for the types that carry them; everything else uses the class syntax.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypeAlias, TypedDict

__all__ = [
    "Accept",
    "Block",
    "ContactActivity",
    "Create",
    "DataIntegrityProof",
    "DeleteProfile",
    "Endpoints",
    "Envelope",
    "Flag",
    "Follow",
    "FollowCopy",
    "InterestProfile",
    "JsonLdContext",
    "KnownActivity",
    "Multikey",
    "Note",
    "Person",
    "PublicKeyEntry",
    "Reject",
    "ServiceActor",
    "Tombstone",
    "Undo",
    "UpdatePerson",
    "UpdateProfile",
    "UpdateService",
    "VectorActivity",
]

# One context URL, or several when extension terms (proofs, InterestProfile) are used;
# this product's own terms come as an embedded context object (documents.EXTENSION_CONTEXT).
JsonLdContext: TypeAlias = str | list[str | dict[str, Any]]

# The proof's own @context is optional in eddsa-jcs-2022; when present it must be
# the leading part of the document's, which binds the context into the signature.
DataIntegrityProof = TypedDict(
    "DataIntegrityProof",
    {
        "@context": NotRequired[JsonLdContext],
        "type": Literal["DataIntegrityProof"],
        "cryptosuite": Literal["eddsa-jcs-2022"],
        "verificationMethod": str,
        "proofPurpose": str,
        "created": str,
        "proofValue": str,
    },
)

_EnvelopeKeys = TypedDict(
    "_EnvelopeKeys",
    {"@context": JsonLdContext, "proof": NotRequired[DataIntegrityProof]},
)


class Envelope(_EnvelopeKeys):
    """What every activity of this product carries besides ``type`` and ``object``.

    ``to`` names exactly the one receiver, because contact-scoped activities must not
    reach anyone else; ``published`` is the author's clock, by which the later of
    two activities wins whatever order they arrive in.
    """

    id: str
    actor: str
    to: list[str]
    published: str


# --- Objects --------------------------------------------------------------------------


class FollowCopy(TypedDict):
    """The ``Follow`` an answer or an ``Undo`` refers to, copied in full so that the
    receiver can tell which pair it concerns without having seen that ``Follow``."""

    id: str
    type: Literal["Follow"]
    actor: str
    object: str


class Person(TypedDict):
    """The contact-scoped reveal of a resident; only ever sent to the one contact."""

    id: str
    type: Literal["Person"]
    name: str
    summary: NotRequired[str]
    mediaType: NotRequired[Literal["text/plain"]]


class Note(TypedDict):
    """A message. Plain text only, so a receiver never renders a peer's markup."""

    id: str
    type: Literal["Note"]
    attributedTo: str
    to: list[str]
    mediaType: Literal["text/plain"]
    content: str
    published: str


class InterestProfile(TypedDict):
    """A published interest vector; ``id`` is the pseudonym actor it belongs to.

    ``kind`` and the codes stay plain strings here: which values are valid is the
    matching package's taxonomy, and a peer on another taxonomy version must still
    parse.
    """

    type: Literal["InterestProfile"]
    id: str
    kind: str
    interests: list[str]
    occupation: str | None
    languages: dict[str, str]
    learning: list[str]
    ageBand: str | None
    childrenAgeBands: list[str]
    updated: str
    sequence: NotRequired[int]


class Tombstone(TypedDict):
    """What is left of a withdrawn profile (``formerType`` ``InterestProfile``: the
    pseudonym actor stays for its contacts) or of a deleted pseudonym actor
    (``formerType`` ``Person``). ``sequence`` lets the receiver tell an ``Update`` sent
    before the withdrawal from a profile resumed after it; ``deleted`` is the day."""

    type: Literal["Tombstone"]
    id: str
    formerType: Literal["InterestProfile", "Person"]
    deleted: str
    sequence: int


class PublicKeyEntry(TypedDict):
    id: str
    owner: str
    publicKeyPem: str


class Multikey(TypedDict):
    id: str
    type: Literal["Multikey"]
    controller: str
    publicKeyMultibase: str


class Endpoints(TypedDict):
    sharedInbox: str


# The node's Service actor: ``publicKey`` (RSA) for draft-cavage verifiers,
# ``assertionMethod`` (Ed25519 Multikeys, FEP-521a) for object proofs.
ServiceActor = TypedDict(
    "ServiceActor",
    {
        "@context": list[str],
        "id": str,
        "type": Literal["Service"],
        "preferredUsername": str,
        "name": str,
        "inbox": str,
        "outbox": str,
        "endpoints": Endpoints,
        "publicKey": PublicKeyEntry | list[PublicKeyEntry],
        "assertionMethod": list[Multikey],
    },
)


# --- Activities -------------------------------------------------------------------------


class Follow(Envelope):
    """A resident's "yes, I'd like contact"; ``object`` is the other pseudonym."""

    type: Literal["Follow"]
    object: str


class Accept(Envelope):
    type: Literal["Accept"]
    object: FollowCopy


class Reject(Envelope):
    type: Literal["Reject"]
    object: FollowCopy


class Undo(Envelope):
    """Withdraws the actor's own ``Follow``."""

    type: Literal["Undo"]
    object: FollowCopy


class Block(Envelope):
    type: Literal["Block"]
    object: str


class UpdatePerson(Envelope):
    type: Literal["Update"]
    object: Person


class UpdateProfile(Envelope):
    """Signed with a proof so that a stored copy stays verifiable after delivery."""

    type: Literal["Update"]
    object: InterestProfile


class UpdateService(Envelope):
    """Announces the node's new keys on rotation; the actor is the node itself."""

    type: Literal["Update"]
    object: ServiceActor


class DeleteProfile(Envelope):
    """Withdraws a resident's profile, or deletes its pseudonym actor (signed, too)."""

    type: Literal["Delete"]
    object: Tombstone


class Create(Envelope):
    type: Literal["Create"]
    object: Note


class Flag(Envelope):
    """A report sent by the reporter's node (not the reporter's pseudonym), carrying a
    reason code and note ids only, so that no free text about a resident crosses."""

    type: Literal["Flag"]
    object: str
    reason: str
    messages: list[str]


ContactActivity: TypeAlias = Follow | Accept | Reject | Undo | Block | UpdatePerson | Create | Flag
VectorActivity: TypeAlias = UpdateProfile | DeleteProfile
KnownActivity: TypeAlias = ContactActivity | VectorActivity | UpdateService
