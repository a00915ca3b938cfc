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

from federation.keys import ed25519_multikey
from federation.vocabulary import Multikey, ServiceActor

__all__ = [
    "ACTIVITYSTREAMS_CONTEXT",
    "ACTIVITY_JSON",
    "DATA_INTEGRITY_CONTEXT",
    "JRD_JSON",
    "LD_JSON_AS",
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
) -> ServiceActor:
    """The node's ActivityStreams `Service` actor.

    `publicKey` (RSA) is what draft-cavage verifiers fetch; `assertionMethod`
    lists Ed25519 Multikeys (FEP-521a) for object proofs. `extra_keys` adds
    further Ed25519 keys, e.g. while rotating, as (id, key) pairs where the id
    is absolute or a fragment such as "#ed25519-key-2".
    """
    base = _base(base_url)
    actor = actor_url(base)
    assertion_methods: list[Multikey] = [
        {
            "id": f"{actor}#ed25519-key",
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
        "@context": [
            ACTIVITYSTREAMS_CONTEXT,
            SECURITY_CONTEXT,
            DATA_INTEGRITY_CONTEXT,
            f"{base}/ns",
        ],
        "id": actor,
        "type": "Service",
        "preferredUsername": slug,
        "name": city_name,
        "inbox": f"{base}/inbox",
        "outbox": f"{base}/outbox",
        "endpoints": {"sharedInbox": f"{base}/inbox"},
        "publicKey": {
            "id": f"{actor}#main-key",
            "owner": actor,
            "publicKeyPem": rsa_public_pem,
        },
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
