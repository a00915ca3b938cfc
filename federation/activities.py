"""The generic shape of an incoming activity, checked before any handler sees it.

Only what every activity must have is checked here (an ``id``, a ``type`` from
the ActivityStreams vocabulary, an ``actor``, an ``object``, absolute http(s)
URLs, addressees given as ids, and origins that agree with the signer). What an
``InterestProfile`` or a ``Note`` must look like is the business of the handler
registered for it; the shapes this product builds are in
:mod:`federation.vocabulary`. Every failure carries the HTTP status and a reason
a peer's admin can act on.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, TypeGuard, get_args
from urllib.parse import urlsplit

from federation import json_limits

__all__ = [
    "ACTIVITY_TYPES",
    "MAX_URL_LENGTH",
    "Activity",
    "ActivityError",
    "ActivityObject",
    "ActivityType",
    "check_addressed",
    "check_origins",
    "origin",
    "parse_activity",
    "parse_activity_json",
]

# The activity types of the ActivityStreams 2.0 vocabulary; anything else is not
# an activity this protocol can be speaking.
ActivityType: TypeAlias = Literal[
    "Accept", "Add", "Announce", "Arrive", "Block", "Create", "Delete", "Dislike",
    "Flag", "Follow", "Ignore", "Invite", "Join", "Leave", "Like", "Listen", "Move",
    "Offer", "Question", "Read", "Reject", "Remove", "TentativeAccept",
    "TentativeReject", "Travel", "Undo", "Update", "View",
]  # fmt: skip
ACTIVITY_TYPES: frozenset[str] = frozenset(get_args(ActivityType))

# An activity's object as received: a URL, or an embedded JSON object whose ``type``
# is a string (the handler that owns that type checks the rest).
ActivityObject: TypeAlias = str | dict[str, Any]

# Identifiers are stored in indexed columns of this width.
MAX_URL_LENGTH = 500
MAX_TYPE_LENGTH = 32


class ActivityError(Exception):
    """An activity refused for its shape (400) or its origins (403)."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Activity:
    """A shape-checked activity: the checked fields typed, next to the document itself.

    ``document`` is the JSON object exactly as received, because that is what is
    stored and what a proof inside it was computed over; the fields are read from it
    once, so no handler has to re-check them. ``actor`` and the addressees (``to``,
    ``cc``, ``audience``) hold ids even when the sender embedded objects; each is empty
    when the activity names no one there.
    """

    id: str
    type: ActivityType
    actor: str
    object_type: str | None
    object_id: str | None
    document: dict[str, Any]
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    audience: tuple[str, ...] = ()

    @property
    def addressees(self) -> tuple[str, ...]:
        return self.to + self.cc + self.audience

    @property
    def object(self) -> ActivityObject:
        # parse_activity admitted only a URL string or a JSON object here.
        target: ActivityObject = self.document["object"]
        return target


@functools.lru_cache(maxsize=4096)
def origin(url: str) -> str:
    """``scheme://host[:port]`` in lower case, default ports dropped; ValueError if none.

    Origins decide whose key may speak for whom, so two spellings of the same
    origin must compare equal and anything without a host must not pass. An inbox
    asks for the origins of an activity's id and actor when it checks the shape and
    again when it checks who may speak for whom, and a peer's actor comes back with
    every activity: a pure function of the string, kept for the last few thousand.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url[:80]!r} is not an absolute http(s) URL")
    port = parts.port  # raises ValueError for a malformed port
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or (scheme, port) in (("http", 80), ("https", 443)):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _url(value: object, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise ActivityError(f"{field} must be a URL string")
    if len(value) > MAX_URL_LENGTH:
        raise ActivityError(f"{field} is longer than {MAX_URL_LENGTH} characters")
    try:
        origin(value)
    except ValueError as exc:
        raise ActivityError(f"{field}: {exc}") from None
    if urlsplit(value).username is not None:
        raise ActivityError(f"{field} must not carry credentials")
    return value


def _type(value: object, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise ActivityError(f"{field} must be a non-empty string")
    if len(value) > MAX_TYPE_LENGTH:
        raise ActivityError(f"{field} is longer than {MAX_TYPE_LENGTH} characters")
    return value


def _is_activity_type(kind: str) -> TypeGuard[ActivityType]:
    return kind in ACTIVITY_TYPES


def _addressees(value: object, field: str = "to") -> tuple[str, ...]:
    """The ids in ``field``; ActivityStreams allows one or a list, each an id or an object."""
    if value is None:
        return ()
    found: list[str] = []
    for entry in value if isinstance(value, list) else [value]:
        addressee = entry.get("id") if isinstance(entry, dict) else entry
        if not isinstance(addressee, str) or not addressee:
            raise ActivityError(f"{field} must be an addressee id or a list of addressee ids")
        found.append(addressee)
    return tuple(found)


def parse_activity(document: object) -> Activity:
    """Check the generic shape of an activity; raise ActivityError (400) if it is off."""
    if not isinstance(document, dict):
        raise ActivityError("an activity must be a JSON object")
    activity_id = _url(document.get("id"), "id")
    kind = _type(document.get("type"), "type")
    if not _is_activity_type(kind):
        raise ActivityError(f"type {kind[:32]!r} is not an ActivityStreams activity type")
    actor = document.get("actor")
    if isinstance(actor, dict):
        actor = actor.get("id")
    actor = _url(actor, "actor")
    if "object" not in document or document["object"] is None:
        raise ActivityError("object is missing")
    target = document["object"]
    object_type: str | None = None
    object_id: str | None = None
    if isinstance(target, dict):
        object_type = _type(target.get("type"), "object.type")
        if target.get("id") is not None:
            object_id = _url(target["id"], "object.id")
    elif isinstance(target, str):
        object_id = _url(target, "object")
    else:
        raise ActivityError("object must be a URL or a JSON object")
    return Activity(
        id=activity_id,
        type=kind,
        actor=actor,
        object_type=object_type,
        object_id=object_id,
        document=document,
        to=_addressees(document.get("to")),
        cc=_addressees(document.get("cc"), "cc"),
        audience=_addressees(document.get("audience"), "audience"),
    )


def parse_activity_json(body: bytes) -> Activity:
    """Decode a request body and check its shape (ActivityError 400 on either).

    The nesting depth is bounded before decoding (:mod:`federation.json_limits`), so
    nothing that later walks the document can run out of stack.
    """
    try:
        document = json_limits.loads(body)
    except json_limits.JsonRefused as exc:
        raise ActivityError(f"body is {exc.reason}") from None
    return parse_activity(document)


def check_origins(activity: Activity, signer_origin: str) -> None:
    """The instance-actor rule: the signing node speaks only for its own origin (403)."""
    actor_origin = origin(activity.actor)
    if actor_origin != signer_origin:
        raise ActivityError(
            f"actor {activity.actor} is not on the signer's origin {signer_origin}", 403
        )
    if origin(activity.id) != actor_origin:
        raise ActivityError(
            f"activity id {activity.id} is not on the actor's origin {actor_origin}", 403
        )


def check_addressed(activity: Activity, addresses_receiver: Callable[[str], bool]) -> None:
    """The receiver rule: the activity names this node or one of its actors (403).

    A signature binds a request to its sender, not to its receiver: without this, a
    node that legitimately received an activity could replay it, within the date
    window, to another node that trusts the same sender. ``to``, ``cc`` and
    ``audience`` count; ``addresses_receiver`` tells whether an id is one of ours.
    """
    if any(addresses_receiver(addressee) for addressee in activity.addressees):
        return
    named = ", ".join(addressee[:100] for addressee in activity.addressees[:3])
    raise ActivityError(
        f"activity {activity.id} is not addressed to this node"
        + (f" (it names {named})" if named else " (it names no addressee in to, cc or audience)"),
        403,
    )
