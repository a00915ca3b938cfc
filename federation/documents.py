"""Discovery documents: the node's actor, WebFinger and NodeInfo.

Pure builders: the node passes in its URL, names, keys and counts and serves
the returned dicts. They follow the shapes other fediverse software expects,
so any standard tool can look a node up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from federation.keys import cached_public_key, ed25519_multikey, published_key_id
from federation.vocabulary import Multikey, PublicKeyEntry, ServiceActor

__all__ = [
    "ACTIVITYSTREAMS_CONTEXT",
    "ACTIVITY_JSON",
    "ACTOR_CONTEXT",
    "DATA_INTEGRITY_CONTEXT",
    "DID_CONTEXT",
    "EXTENSION_CONTEXT",
    "EXTENSION_NAMESPACE",
    "JRD_JSON",
    "LD_JSON_AS",
    "MULTIKEY_CONTEXT",
    "NODEINFO_JSON",
    "NODEINFO_PATH",
    "NODEINFO_SCHEMA",
    "SECURITY_CONTEXT",
    "accepts_activity_json",
    "actor_document",
    "actor_url",
    "nodeinfo_document",
    "nodeinfo_links",
    "webfinger_document",
]

ACTIVITY_JSON = "application/activity+json"
LD_JSON_AS = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
JRD_JSON = "application/jrd+json"
NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2.1"
NODEINFO_JSON = f'application/json; profile="{NODEINFO_SCHEMA}#"'
NODEINFO_PATH = "/nodeinfo/2.1"

ACTIVITYSTREAMS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v1"
DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"

# The actor's contexts: ActivityStreams, `publicKey` (security/v1), and the FEP-521a
# pair that defines `assertionMethod` (did/v1) and `Multikey` (multikey/v1), without
# which a JSON-LD reader sees no Ed25519 key at all. All of them are contexts every
# JSON-LD library ships or caches; the actor uses no term of this product's own.
ACTOR_CONTEXT: tuple[str, ...] = (
    ACTIVITYSTREAMS_CONTEXT,
    SECURITY_CONTEXT,
    DATA_INTEGRITY_CONTEXT,
    DID_CONTEXT,
    MULTIKEY_CONTEXT,
)

# The terms of this product's extension (the `InterestProfile` and what a `Flag`
# carries besides ActivityStreams) live under one namespace for every node, so that
# two nodes' terms are the same terms. It is a UUID URN (RFC 4122): owned by no
# domain anyone could lose or take over, never dereferenced, and minted once for
# this protocol. Older nodes used `https://zwilling.example/ns#`; the term names
# are unchanged, and no node reads the IRIs (they read the JSON by term name).
EXTENSION_NAMESPACE = "urn:uuid:5d413f90-cf95-48e3-b082-e37fa3066c9b#"

# Embedded in the documents that use these terms (after ActivityStreams and
# data-integrity/v1), so no reader ever fetches a context from a node; the same
# object is served at a node's /ns for people who look it up.
EXTENSION_CONTEXT: dict[str, Any] = {
    "zw": EXTENSION_NAMESPACE,
    "InterestProfile": "zw:InterestProfile",
    "kind": "zw:kind",
    "interests": {"@id": "zw:interests", "@container": "@set"},
    "occupation": "zw:occupation",
    "languages": {"@id": "zw:languages", "@type": "@json"},
    "learning": {"@id": "zw:learning", "@container": "@set"},
    "ageBand": "zw:ageBand",
    "childrenAgeBands": {"@id": "zw:childrenAgeBands", "@container": "@set"},
    "sequence": {"@id": "zw:sequence", "@type": "http://www.w3.org/2001/XMLSchema#integer"},
    "reason": "zw:reason",
    "messages": {"@id": "zw:messages", "@type": "@id", "@container": "@set"},
    # ActivityStreams types formerType as an IRI reference, which would make the
    # Tombstone's "InterestProfile" a document-relative IRI; read as a vocabulary
    # term it is the type it names (the JSON is unchanged).
    "formerType": {"@id": "https://www.w3.org/ns/activitystreams#formerType", "@type": "@vocab"},
}

_ACTIVITYSTREAMS_PROFILE = "https://www.w3.org/ns/activitystreams"
_SOFTWARE_NAME = re.compile(r"[a-z0-9-]+")


def _base(base_url: str) -> str:
    return base_url.rstrip("/")


def actor_url(base_url: str) -> str:
    """The node's Service actor lives at {base_url}/actor."""
    return f"{_base(base_url)}/actor"


def actor_document(
    *,
    base_url: str,
    slug: str,
    city_name: str,
    rsa_public_pem: str,
    ed25519_public_key: Ed25519PublicKey,
    extra_keys: Iterable[tuple[str, Ed25519PublicKey]] = (),
    retired_rsa_public_pems: Iterable[str] = (),
) -> ServiceActor:
    """The node's ActivityStreams `Service` actor.

    `publicKey` (RSA) is what draft-cavage verifiers fetch; `assertionMethod`
    lists Ed25519 Multikeys (FEP-521a) for object proofs. `extra_keys` adds
    further Ed25519 keys, e.g. while rotating, as (id, key) pairs where the id
    is absolute or a fragment such as "#ed25519-key-2".

    Every key is published under its own id (`federation.keys.published_key_id`).
    `retired_rsa_public_pems` are RSA keys rotated out but still in their grace
    period: `publicKey` is then a list, the current key first (software that reads
    only one key takes the first), so that a verifier fetching the key named by a
    signature finds it whichever of the two signed.
    """
    base = _base(base_url)
    actor = actor_url(base)
    public_keys: list[PublicKeyEntry] = [
        {
            "id": published_key_id(actor, cached_public_key(pem)),
            "owner": actor,
            "publicKeyPem": pem,
        }
        for pem in (rsa_public_pem, *retired_rsa_public_pems)
    ]
    assertion_methods: list[Multikey] = [
        {
            "id": published_key_id(actor, ed25519_public_key),
            "type": "Multikey",
            "controller": actor,
            "publicKeyMultibase": ed25519_multikey(ed25519_public_key),
        }
    ]
    for key_id, key in extra_keys:
        assertion_methods.append(
            {
                "id": actor + key_id if key_id.startswith("#") else key_id,
                "type": "Multikey",
                "controller": actor,
                "publicKeyMultibase": ed25519_multikey(key),
            }
        )
    return {
        "@context": list(ACTOR_CONTEXT),
        "id": actor,
        "type": "Service",
        "preferredUsername": slug,
        "name": city_name,
        "inbox": f"{base}/inbox",
        "outbox": f"{base}/outbox",
        "endpoints": {"sharedInbox": f"{base}/inbox"},
        "publicKey": public_keys[0] if len(public_keys) == 1 else public_keys,
        "assertionMethod": assertion_methods,
    }


def webfinger_document(
    *, subject: str, actor_url: str, profile_url: str | None = None
) -> dict[str, Any]:
    """A WebFinger JRD whose `self` link points at the ActivityPub actor."""
    links: list[dict[str, str]] = [{"rel": "self", "type": ACTIVITY_JSON, "href": actor_url}]
    aliases = [actor_url]
    if profile_url is not None:
        links.append(
            {
                "rel": "http://webfinger.net/rel/profile-page",
                "type": "text/html",
                "href": profile_url,
            }
        )
        aliases.append(profile_url)
    return {"subject": subject, "aliases": aliases, "links": links}


def nodeinfo_links(base_url: str) -> dict[str, Any]:
    """The /.well-known/nodeinfo document pointing at the NodeInfo 2.1 endpoint."""
    return {"links": [{"rel": NODEINFO_SCHEMA, "href": _base(base_url) + NODEINFO_PATH}]}


def _users(usage_users: int | Mapping[str, int]) -> dict[str, int]:
    keys = ("total", "activeMonth", "activeHalfyear")
    if isinstance(usage_users, Mapping):
        missing = [key for key in keys if key not in usage_users]
        if missing:
            raise ValueError(f"usage.users lacks {', '.join(missing)}")
        counts = {key: usage_users[key] for key in keys}
    else:
        counts = dict.fromkeys(keys, usage_users)
    for key, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"usage.users.{key} must be a non-negative integer")
    return counts


def nodeinfo_document(
    *,
    software_name: str,
    version: str,
    usage_users: int | Mapping[str, int],
    usage_local_posts: int,
    open_registrations: bool,
    metadata: dict[str, Any],
    software_repository: str | None = None,
    software_homepage: str | None = None,
) -> dict[str, Any]:
    """A NodeInfo 2.1 document.

    `usage_users` is a mapping with total / activeMonth / activeHalfyear, or a
    single count used for all three by a node that does not track activity.
    """
    if not _SOFTWARE_NAME.fullmatch(software_name):
        raise ValueError("NodeInfo software.name must match ^[a-z0-9-]+$")
    if isinstance(usage_local_posts, bool) or usage_local_posts < 0:
        raise ValueError("usage.localPosts must be a non-negative integer")
    software: dict[str, str] = {"name": software_name, "version": version}
    if software_repository is not None:
        software["repository"] = software_repository
    if software_homepage is not None:
        software["homepage"] = software_homepage
    return {
        "version": "2.1",
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": open_registrations,
        "usage": {"users": _users(usage_users), "localPosts": usage_local_posts},
        "metadata": metadata,
    }


def _media_ranges(accept_header: str) -> Iterable[tuple[str, dict[str, str]]]:
    for part in accept_header.split(","):
        media_type, *raw_params = part.split(";")
        params: dict[str, str] = {}
        for raw in raw_params:
            name, _, value = raw.partition("=")
            params[name.strip().lower()] = value.strip().strip('"')
        yield media_type.strip().lower(), params


def accepts_activity_json(accept_header: str | None) -> bool:
    """Whether a client asks for ActivityStreams JSON rather than HTML.

    True for application/activity+json and for application/ld+json (with the
    ActivityStreams profile, or without a profile, as Mastodon treats it);
    wildcards do not count, so browsers get the HTML page.
    """
    if not accept_header:
        return False
    for media_type, params in _media_ranges(accept_header):
        try:
            if float(params.get("q", "1")) <= 0:
                continue
        except ValueError:
            continue
        if media_type == ACTIVITY_JSON:
            return True
        if media_type == "application/ld+json":
            profiles = params.get("profile")
            if profiles is None or _ACTIVITYSTREAMS_PROFILE in profiles.split():
                return True
    return False
