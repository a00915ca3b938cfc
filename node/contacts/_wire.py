"""The contact vocabulary on the wire (docs/protocol.md, section 4): builders for what this
node sends and readers for what a peer sends, with no database in sight.

``Accept``, ``Reject`` and ``Undo`` carry a copy of the ``Follow`` they answer, so
that a receiver can tell which pair they concern without having seen that ``Follow``
(activities may arrive in any order). Every activity carries ``published``: each
side's consent changes only with a newer activity from that side.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal, overload

from federation.activities import MAX_URL_LENGTH, origin
from federation.documents import ACTIVITYSTREAMS_CONTEXT, EXTENSION_CONTEXT
from federation.vocabulary import (
    Accept,
    Block,
    Create,
    Envelope,
    Flag,
    Follow,
    FollowCopy,
    Note,
    Person,
    Reject,
    Undo,
    UpdatePerson,
)

MAX_MESSAGE_LENGTH = 5000
MAX_NAME_LENGTH = 80
MAX_ABOUT_LENGTH = 5000
PLAIN_TEXT: Final = "text/plain"


class WireError(ValueError):
    """A contact activity that does not have the shape this protocol uses (400)."""


def new_id(base_url: str, kind: str = "activities") -> str:
    return f"{base_url}/{kind}/{uuid.uuid4()}"


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def envelope(base_url: str, local: str, remote: str, now: datetime) -> Envelope:
    """What every contact activity carries: a fresh id, the author's pseudonym, the
    other pseudonym as its only addressee, and the author's clock."""
    return {
        "@context": ACTIVITYSTREAMS_CONTEXT,
        "id": new_id(base_url),
        "actor": local,
        "to": [remote],
        "published": stamp(now),
    }


def follow_copy(follow_id: str, actor: str, target: str) -> FollowCopy:
    return {"id": follow_id, "type": "Follow", "actor": actor, "object": target}


def follow(base_url: str, local: str, remote: str, now: datetime) -> Follow:
    """ "Yes, I'd like contact": nothing but the two pseudonyms."""
    return {**envelope(base_url, local, remote, now), "type": "Follow", "object": remote}


@overload
def answer(
    base_url: str, kind: Literal["Accept"], local: str, remote: str, follow_id: str, now: datetime
) -> Accept: ...
@overload
def answer(
    base_url: str, kind: Literal["Reject"], local: str, remote: str, follow_id: str, now: datetime
) -> Reject: ...
@overload
def answer(
    base_url: str,
    kind: Literal["Accept", "Reject"],
    local: str,
    remote: str,
    follow_id: str,
    now: datetime,
) -> Accept | Reject: ...
def answer(
    base_url: str,
    kind: Literal["Accept", "Reject"],
    local: str,
    remote: str,
    follow_id: str,
    now: datetime,
) -> Accept | Reject:
    """``Accept`` or ``Reject`` of the peer resident's ``Follow`` (``follow_id``)."""
    if kind == "Accept":
        return {
            **envelope(base_url, local, remote, now),
            "type": "Accept",
            "object": follow_copy(follow_id, remote, local),
        }
    return {
        **envelope(base_url, local, remote, now),
        "type": "Reject",
        "object": follow_copy(follow_id, remote, local),
    }


def undo(base_url: str, local: str, remote: str, follow_id: str, now: datetime) -> Undo:
    """Withdraw this side's own ``Follow``."""
    return {
        **envelope(base_url, local, remote, now),
        "type": "Undo",
        "object": follow_copy(follow_id, local, remote),
    }


def block(base_url: str, local: str, remote: str, now: datetime) -> Block:
    return {**envelope(base_url, local, remote, now), "type": "Block", "object": remote}


def reveal(
    base_url: str, local: str, remote: str, name: str, about: str | None, now: datetime
) -> UpdatePerson:
    """The contact-scoped ``Person``: addressed to the other pseudonym only."""
    person: Person = {"id": local, "type": "Person", "name": name[:MAX_NAME_LENGTH]}
    if about:
        person["summary"] = about[:MAX_ABOUT_LENGTH]
        person["mediaType"] = PLAIN_TEXT
    return {**envelope(base_url, local, remote, now), "type": "Update", "object": person}


def note(base_url: str, local: str, remote: str, body: str, now: datetime) -> Create:
    """A message: a ``Create`` of a plain-text ``Note``."""
    message: Note = {
        "id": new_id(base_url, "notes"),
        "type": "Note",
        "attributedTo": local,
        "to": [remote],
        "mediaType": PLAIN_TEXT,
        "content": body,
        "published": stamp(now),
    }
    return {**envelope(base_url, local, remote, now), "type": "Create", "object": message}


def flag(base_url: str, remote: str, reason: str, note_ids: list[str], now: datetime) -> Flag:
    """A report forwarded to the reported resident's node, from the node itself (not
    the reporter's pseudonym) and with a reason code only: no free text crosses.
    ``reason`` and ``messages`` are this product's terms, hence the embedded context."""
    return {
        "@context": [ACTIVITYSTREAMS_CONTEXT, EXTENSION_CONTEXT],
        "id": new_id(base_url),
        "type": "Flag",
        "actor": f"{base_url}/actor",
        "to": [remote],
        "published": stamp(now),
        "object": remote,
        "reason": reason,
        "messages": note_ids,
    }


# Reading what peers send.


def published(activity: Mapping[str, object], fallback: datetime) -> datetime:
    """The author's time of the activity; ``fallback`` when missing or unreadable."""
    value = activity.get("published")
    if isinstance(value, str) and len(value) <= 64:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return fallback
        if moment.tzinfo is not None:
            return moment.astimezone(UTC)
    return fallback


def url(value: object, field: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_URL_LENGTH:
        raise WireError(f"{field} must be a URL")
    try:
        origin(value)
    except ValueError as exc:
        raise WireError(f"{field}: {exc}") from None
    return value


def target_url(activity: Mapping[str, object]) -> str:
    """The object of a ``Follow`` or ``Block``: a pseudonym actor URL."""
    target = activity.get("object")
    if isinstance(target, dict):
        target = target.get("id")
    return url(target, "object")


@dataclass(frozen=True, slots=True)
class FollowRef:
    id: str
    actor: str
    target: str


def embedded_follow(activity: Mapping[str, object]) -> FollowRef:
    target = activity.get("object")
    if not isinstance(target, dict) or target.get("type") != "Follow":
        raise WireError("object must be the Follow it answers")
    return FollowRef(
        id=url(target.get("id"), "object.id"),
        actor=url(target.get("actor"), "object.actor"),
        target=url(target.get("object"), "object.object"),
    )


def addressee(activity: Mapping[str, object]) -> str:
    """The one pseudonym a contact-scoped activity is addressed to."""
    to = activity.get("to")
    if isinstance(to, str):
        to = [to]
    if not isinstance(to, list) or len(to) != 1:
        raise WireError("to must name exactly the other pseudonym")
    if activity.get("cc") or activity.get("bcc") or activity.get("audience"):
        raise WireError("a contact-scoped activity has no cc, bcc or audience")
    return url(to[0], "to")


@dataclass(frozen=True, slots=True)
class RevealedPerson:
    name: str
    about: str | None


def revealed_person(activity: Mapping[str, object]) -> RevealedPerson:
    person = activity.get("object")
    if not isinstance(person, dict) or person.get("type") != "Person":
        raise WireError("object must be a Person")
    if person.get("id") != activity.get("actor"):
        raise WireError("a Person may only be revealed by its own actor")
    name = person.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise WireError(f"name must be text of 1 to {MAX_NAME_LENGTH} characters")
    about = person.get("summary")
    if about is not None and (not isinstance(about, str) or len(about) > MAX_ABOUT_LENGTH):
        raise WireError(f"summary must be text of at most {MAX_ABOUT_LENGTH} characters")
    return RevealedPerson(name=name.strip(), about=about or None)


@dataclass(frozen=True, slots=True)
class IncomingNote:
    id: str
    body: str


def incoming_note(activity: Mapping[str, object]) -> IncomingNote:
    message = activity.get("object")
    if not isinstance(message, dict) or message.get("type") != "Note":
        raise WireError("object must be a Note")
    note_id = url(message.get("id"), "object.id")
    if origin(note_id) != origin(str(activity.get("actor"))):
        raise WireError("the Note id is not on the actor's origin")
    if message.get("attributedTo", activity.get("actor")) != activity.get("actor"):
        raise WireError("the Note must be attributed to the actor")
    if message.get("mediaType", PLAIN_TEXT) != PLAIN_TEXT:
        raise WireError("only text/plain notes are accepted")
    body = message.get("content")
    if not isinstance(body, str) or not body.strip():
        raise WireError("content must be non-empty text")
    if len(body) > MAX_MESSAGE_LENGTH:
        raise WireError(f"content is longer than {MAX_MESSAGE_LENGTH} characters")
    return IncomingNote(id=note_id, body=body)
