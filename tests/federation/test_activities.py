"""Parsing incoming activities into the typed ``Activity``, and the product's vocabulary.

The typed fields must not change what is refused or the reason given: a peer's admin
reads these reasons. The vocabulary TypedDicts must stay plain dicts on the wire.
"""

from __future__ import annotations

import json
from typing import Any, assert_type

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from federation.activities import (
    ACTIVITY_TYPES,
    Activity,
    ActivityError,
    ActivityObject,
    ActivityType,
    check_origins,
    parse_activity,
    parse_activity_json,
)
from federation.proofs import create_proof, verify_proof
from federation.vocabulary import (
    Accept,
    Block,
    Create,
    DeleteProfile,
    Flag,
    Follow,
    FollowCopy,
    KnownActivity,
    UpdatePerson,
    UpdateProfile,
)

HERE = "https://cholet.example"
THERE = "https://oldenburg.example"
ALICE = f"{HERE}/p/alice"
BRUNO = f"{THERE}/p/bruno"
PUBLISHED = "2025-05-01T10:00:00.000000+00:00"


def follow_copy() -> FollowCopy:
    return {"id": f"{THERE}/activities/f1", "type": "Follow", "actor": BRUNO, "object": ALICE}


def follow() -> Follow:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{HERE}/activities/1",
        "type": "Follow",
        "actor": ALICE,
        "to": [BRUNO],
        "published": PUBLISHED,
        "object": BRUNO,
    }


def accept() -> Accept:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{HERE}/activities/2",
        "type": "Accept",
        "actor": ALICE,
        "to": [BRUNO],
        "published": PUBLISHED,
        "object": follow_copy(),
    }


def block() -> Block:
    return {**follow(), "id": f"{HERE}/activities/3", "type": "Block"}


def reveal() -> UpdatePerson:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{HERE}/activities/4",
        "type": "Update",
        "actor": ALICE,
        "to": [BRUNO],
        "published": PUBLISHED,
        "object": {"id": ALICE, "type": "Person", "name": "Alice", "mediaType": "text/plain"},
    }


def note() -> Create:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{HERE}/activities/5",
        "type": "Create",
        "actor": ALICE,
        "to": [BRUNO],
        "published": PUBLISHED,
        "object": {
            "id": f"{HERE}/notes/1",
            "type": "Note",
            "attributedTo": ALICE,
            "to": [BRUNO],
            "mediaType": "text/plain",
            "content": "Bonjour !",
            "published": PUBLISHED,
        },
    }


def flag() -> Flag:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{HERE}/activities/6",
        "type": "Flag",
        "actor": f"{HERE}/actor",
        "to": [BRUNO],
        "published": PUBLISHED,
        "object": BRUNO,
        "reason": "spam",
        "messages": [f"{THERE}/notes/9"],
    }


def profile_update() -> UpdateProfile:
    return {
        "@context": ["https://www.w3.org/ns/activitystreams", f"{HERE}/ns/zwilling"],
        "id": f"{HERE}/activities/7",
        "type": "Update",
        "actor": ALICE,
        "to": [f"{THERE}/actor"],
        "published": PUBLISHED,
        "object": {
            "type": "InterestProfile",
            "id": ALICE,
            "kind": "person",
            "interests": ["music.choir"],
            "occupation": None,
            "languages": {"fr": "C2"},
            "learning": ["de"],
            "ageBand": "30-39",
            "childrenAgeBands": [],
            "updated": PUBLISHED,
        },
    }


def withdrawal() -> DeleteProfile:
    return {
        "@context": ["https://www.w3.org/ns/activitystreams", f"{HERE}/ns/zwilling"],
        "id": f"{HERE}/activities/8",
        "type": "Delete",
        "actor": ALICE,
        "to": [f"{THERE}/actor"],
        "published": PUBLISHED,
        "object": {"type": "Tombstone", "id": ALICE, "formerType": "Person", "deleted": PUBLISHED},
    }


PRODUCT_ACTIVITIES = [follow, accept, block, reveal, note, flag, profile_update, withdrawal]


@pytest.mark.parametrize("build", PRODUCT_ACTIVITIES, ids=lambda build: build.__name__)
def test_every_product_activity_passes_the_generic_check(build: Any) -> None:
    built: KnownActivity = build()
    activity = parse_activity(json.loads(json.dumps(built)))
    assert activity.id == built["id"]
    assert activity.type == built["type"]
    assert activity.actor == built["actor"]
    assert activity.to == tuple(built["to"])
    assert activity.object == built["object"]
    assert activity.document == built
    check_origins(activity, HERE)


def test_typed_fields_of_a_parsed_activity() -> None:
    activity = parse_activity_json(json.dumps(accept()).encode())
    assert_type(activity, Activity)
    assert_type(activity.type, ActivityType)
    assert_type(activity.object, ActivityObject)
    assert_type(activity.to, tuple[str, ...])
    assert activity.object_type == "Follow"
    assert activity.object_id == f"{THERE}/activities/f1"
    assert isinstance(activity.object, dict) and activity.object["actor"] == BRUNO


def test_the_vocabulary_is_plain_json_and_stays_typed_when_signed() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    unsigned = profile_update()
    signed = create_proof(unsigned, key, f"{HERE}/actor#ed25519-key")
    assert_type(signed, UpdateProfile)
    assert type(signed) is dict and "proof" not in unsigned
    assert signed["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert verify_proof(signed, key.public_key()) == unsigned
    assert json.loads(json.dumps(signed)) == signed


def test_activity_types_are_the_activitystreams_vocabulary() -> None:
    assert len(ACTIVITY_TYPES) == 28
    assert {"Follow", "Accept", "Reject", "Undo", "Block", "Update", "Delete"} <= ACTIVITY_TYPES
    assert {"Create", "Flag", "TentativeAccept", "View"} <= ACTIVITY_TYPES
    assert "Note" not in ACTIVITY_TYPES and "Person" not in ACTIVITY_TYPES


# --- Addressees -------------------------------------------------------------------------


def test_to_is_empty_when_the_activity_names_no_one() -> None:
    document: dict[str, Any] = dict(follow())
    del document["to"]
    assert parse_activity(document).to == ()
    assert parse_activity({**document, "to": None}).to == ()


@pytest.mark.parametrize(
    ("to", "ids"),
    [
        (BRUNO, (BRUNO,)),
        ([BRUNO, f"{THERE}/actor"], (BRUNO, f"{THERE}/actor")),
        ([{"id": BRUNO, "type": "Person"}], (BRUNO,)),
        ([], ()),
        (
            ["https://www.w3.org/ns/activitystreams#Public"],
            ("https://www.w3.org/ns/activitystreams#Public",),
        ),
    ],
)
def test_to_holds_addressee_ids_in_every_allowed_spelling(to: object, ids: tuple[str, ...]) -> None:
    assert parse_activity({**follow(), "to": to}).to == ids


@pytest.mark.parametrize("to", [5, {"type": "Person"}, [BRUNO, 7], [""], [None], True])
def test_to_that_names_no_addressee_is_400(to: object) -> None:
    with pytest.raises(ActivityError) as caught:
        parse_activity({**follow(), "to": to})
    assert caught.value.status == 400
    assert caught.value.reason == "to must be an addressee id or a list of addressee ids"


# --- The refusals and their reasons, unchanged by typing ------------------------------------


def test_embedded_actor_object_is_read_as_its_id() -> None:
    activity = parse_activity({**follow(), "actor": {"id": ALICE, "type": "Person"}})
    assert activity.actor == ALICE


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": None}, "id must be a URL string"),
        ({"id": "urn:uuid:1"}, "id: 'urn:uuid:1' is not an absolute http(s) URL"),
        ({"id": f"https://u:p@{HERE[8:]}/a/1"}, "id must not carry credentials"),
        ({"id": f"{HERE}/{'a' * 500}"}, "id is longer than 500 characters"),
        ({"type": 3}, "type must be a non-empty string"),
        ({"type": "x" * 33}, "type is longer than 32 characters"),
        ({"type": "Note"}, "type 'Note' is not an ActivityStreams activity type"),
        ({"actor": None}, "actor must be a URL string"),
        ({"actor": {"type": "Person"}}, "actor must be a URL string"),
        ({"object": None}, "object is missing"),
        ({"object": 7}, "object must be a URL or a JSON object"),
        ({"object": ["a"]}, "object must be a URL or a JSON object"),
        ({"object": {"id": BRUNO}}, "object.type must be a non-empty string"),
        (
            {"object": {"type": "Person", "id": "nope"}},
            "object.id: 'nope' is not an absolute http(s) URL",
        ),
        ({"object": "nope"}, "object: 'nope' is not an absolute http(s) URL"),
    ],
)
def test_wrong_shape_gives_the_same_clear_400(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(ActivityError) as caught:
        parse_activity({**follow(), **change})
    assert caught.value.status == 400
    assert caught.value.reason == reason


def test_object_key_absent_is_missing_too() -> None:
    document: dict[str, Any] = dict(follow())
    del document["object"]
    with pytest.raises(ActivityError, match=r"^object is missing$"):
        parse_activity(document)


@pytest.mark.parametrize("document", [[follow()], "Follow", None, 3])
def test_an_activity_must_be_a_json_object(document: object) -> None:
    with pytest.raises(ActivityError, match=r"^an activity must be a JSON object$"):
        parse_activity(document)


@pytest.mark.parametrize(
    ("body", "start"),
    [
        (b"{", "body is not JSON: "),
        (b'{"id": NaN}', "body is not JSON: NaN is not JSON"),
        (b"\xff", "body is not JSON: "),
        (b"[" * 100_000 + b"]" * 100_000, "body is JSON nested deeper than 32 levels"),
    ],
)
def test_a_body_that_is_not_json_is_400(body: bytes, start: str) -> None:
    with pytest.raises(ActivityError) as caught:
        parse_activity_json(body)
    assert caught.value.status == 400
    assert caught.value.reason.startswith(start)


def test_origins_must_agree_with_the_signer_and_the_actor() -> None:
    activity = parse_activity(follow())
    with pytest.raises(ActivityError) as caught:
        check_origins(activity, THERE)
    assert caught.value.status == 403
    assert caught.value.reason == f"actor {ALICE} is not on the signer's origin {THERE}"

    elsewhere = parse_activity({**follow(), "id": f"{THERE}/activities/1"})
    with pytest.raises(ActivityError) as caught:
        check_origins(elsewhere, HERE)
    assert caught.value.status == 403
    assert caught.value.reason == (
        f"activity id {THERE}/activities/1 is not on the actor's origin {HERE}"
    )
