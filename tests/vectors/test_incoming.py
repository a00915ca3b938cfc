"""Vectors a peer sends are validated before anything is stored, and stored by the
newest-wins (by the pseudonym's sequence number) and tombstone rules. The requests here
are signed by hand with Cholet's real keys, so each rule is met by exactly the
malformed input it is about.

One pair of nodes serves the whole module: each case uses pseudonyms of its own and
compares what Oldenburg holds after its requests with what it held before."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation.proofs import create_proof
from node.peer_vectors.appkeys import VECTOR_STATS
from support.federation import FAST, signed
from support.nodes import RunningNode, node_pair
from support.population import acquainted, remote_vectors

pytestmark = pytest.mark.asyncio(loop_scope="module")

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def stamp(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def fresh_pseudonym() -> str:
    """A pseudonym no other case in the module uses (64 hex digits, like a real one)."""
    return secrets.token_hex(32)


def vector(cholet: RunningNode, pseudonym: str | None = None, **fields: Any) -> dict[str, Any]:
    pseudonym = pseudonym or fresh_pseudonym()
    return {
        "type": "InterestProfile",
        "id": f"{cholet.url}/p/{pseudonym}",
        "kind": "person",
        "interests": ["music_making.choir", "sport.cycling"],
        "occupation": "23",
        "languages": {"de": "B2", "fr": "native"},
        "learning": ["de"],
        "ageBand": "30-39",
        "childrenAgeBands": [],
        "updated": stamp(0),
        "sequence": 1,
        **fields,
    }


def activity(
    cholet: RunningNode,
    kind: str,
    target: dict[str, Any],
    *,
    actor: str | None = None,
    key: Ed25519PrivateKey | None = None,
    proof: bool = True,
) -> dict[str, Any]:
    document = {
        "@context": ["https://www.w3.org/ns/activitystreams"],
        "id": f"{cholet.url}/activities/{uuid.uuid4()}",
        "type": kind,
        "actor": actor or target["id"],
        "to": [peer.actor_url for peer in cholet.config.peers],
        "object": target,
    }
    if not proof:
        return document
    return create_proof(
        document, key or cholet.keys.ed25519, f"{cholet.config.actor_url}#ed25519-key"
    )


def withdrawal(
    cholet: RunningNode, pseudonym: str, sequence: int, former: str = "InterestProfile"
) -> dict[str, Any]:
    actor = f"{cholet.url}/p/{pseudonym}"
    return activity(
        cholet,
        "Delete",
        {
            "type": "Tombstone",
            "id": actor,
            "formerType": former,
            "deleted": stamp(0),
            "sequence": sequence,
        },
    )


async def post(
    client: httpx.AsyncClient, oldenburg: RunningNode, cholet: RunningNode, document: Any
) -> httpx.Response:
    url = f"{oldenburg.url}/inbox"
    headers, body = signed(url, document, signer=cholet)
    return await client.post(url, headers=headers, content=body)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def pair(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[RunningNode, RunningNode]]:
    directory: Path = tmp_path_factory.mktemp("incoming")
    async with node_pair(directory, extensions=[], overrides=FAST) as (oldenburg, cholet):
        await acquainted(oldenburg, cholet)
        yield oldenburg, cholet


BAD_SHAPES = [
    pytest.param({"interests": "sport.cycling"}, id="interests-not-a-list"),
    pytest.param({"interests": [1, 2]}, id="interest-not-a-string"),
    pytest.param({"languages": ["de", "fr"]}, id="languages-not-an-object"),
    pytest.param({"languages": {"de": "expert"}}, id="level-not-a-language-level"),
    pytest.param({"kind": 42}, id="kind-not-a-string"),
    pytest.param({"kind": "company"}, id="unknown-kind"),
    pytest.param({"interests": [f"sport.x{i}" for i in range(40)]}, id="too-many-interests"),
    pytest.param({"learning": ["de"] * 60}, id="too-many-learning"),
    pytest.param({"ageBand": "x" * 500}, id="oversized-value"),
    pytest.param({"updated": "yesterday"}, id="updated-not-a-timestamp"),
    pytest.param({"updated": ""}, id="updated-missing"),
    pytest.param({"displayName": "Jeanne"}, id="personal-field"),
    pytest.param({"type": "Person"}, id="wrong-type"),
    pytest.param({"sequence": None}, id="sequence-missing"),
    pytest.param({"sequence": "7"}, id="sequence-not-an-integer"),
    pytest.param({"sequence": -1}, id="sequence-negative"),
    pytest.param({"sequence": True}, id="sequence-boolean"),
]


@pytest.mark.parametrize("change", BAD_SHAPES)
async def test_malformed_vectors_get_400_and_store_nothing(pair, change: dict[str, Any]) -> None:
    oldenburg, cholet = pair
    before = await remote_vectors(oldenburg)
    document = activity(cholet, "Update", vector(cholet, **change))
    async with httpx.AsyncClient() as client:
        response = await post(client, oldenburg, cholet, document)
    assert response.status_code == 400, response.text
    assert await remote_vectors(oldenburg) == before


async def test_a_vector_for_another_origin_gets_403(pair) -> None:
    oldenburg, cholet = pair
    before = await remote_vectors(oldenburg)
    own = f"{cholet.url}/p/{fresh_pseudonym()}"
    foreign = vector(cholet, id=f"http://elsewhere.example/p/{fresh_pseudonym()}")
    document = activity(cholet, "Update", foreign, actor=own)
    async with httpx.AsyncClient() as client:
        response = await post(client, oldenburg, cholet, document)
        assert response.status_code == 403, response.text
        assert "origin" in response.text
        # Also for a withdrawal of somebody else's pseudonym.
        document = activity(
            cholet,
            "Delete",
            {
                "type": "Tombstone",
                "id": foreign["id"],
                "formerType": "InterestProfile",
                "deleted": stamp(1),
                "sequence": 2,
            },
            actor=own,
        )
        response = await post(client, oldenburg, cholet, document)
        assert response.status_code == 403, response.text
    assert await remote_vectors(oldenburg) == before


async def test_the_integrity_proof_must_verify_with_the_pinned_key(pair) -> None:
    oldenburg, cholet = pair
    before = await remote_vectors(oldenburg)
    pseudonym = fresh_pseudonym()
    async with httpx.AsyncClient() as client:
        unsigned = activity(cholet, "Update", vector(cholet, pseudonym), proof=False)
        assert (await post(client, oldenburg, cholet, unsigned)).status_code == 403
        forged = activity(
            cholet, "Update", vector(cholet, pseudonym), key=Ed25519PrivateKey.generate()
        )
        assert (await post(client, oldenburg, cholet, forged)).status_code == 403
        tampered = activity(cholet, "Update", vector(cholet, pseudonym))
        tampered["object"]["interests"] = ["games.chess"]
        assert (await post(client, oldenburg, cholet, tampered)).status_code == 403
        assert await remote_vectors(oldenburg) == before
        genuine = activity(cholet, "Update", vector(cholet, pseudonym))
        assert (await post(client, oldenburg, cholet, genuine)).status_code == 202
    after = await remote_vectors(oldenburg)
    assert len(after) == len(before) + 1
    assert set(after) - set(before) == {f"{cholet.url}/p/{pseudonym}"}


async def test_unknown_codes_fall_back_or_are_dropped_and_counted(pair) -> None:
    oldenburg, cholet = pair
    before = await remote_vectors(oldenburg)
    assert oldenburg.app is not None
    stats = oldenburg.app[VECTOR_STATS]
    dropped_before = stats.dropped_codes
    profiles_before = stats.profiles_with_dropped_codes
    newer_taxonomy = vector(
        cholet,
        interests=["sport.quidditch", "underwater_basket_weaving.expert", "music_making.choir"],
        languages={"fr": "native", "de": "B2", "qq": "B1"},
        occupation="99",
    )
    async with httpx.AsyncClient() as client:
        response = await post(client, oldenburg, cholet, activity(cholet, "Update", newer_taxonomy))
    assert response.status_code == 202, response.text
    after = await remote_vectors(oldenburg)
    [stored] = [held for actor, held in after.items() if actor not in before]
    assert len(after) == len(before) + 1
    assert stored["id"] == newer_taxonomy["id"]
    assert stored["interests"] == ["music_making.choir", "sport"]
    assert stored["languages"] == {"de": "fluent", "fr": "native"}  # B2 of an older peer
    assert stats.dropped_codes - dropped_before >= 4  # quidditch, weaving, qq, 99
    assert stats.profiles_with_dropped_codes - profiles_before == 1


async def test_older_updates_are_ignored_and_tombstones_block_late_ones(pair) -> None:
    """Order is the sequence number, not ``updated``: every update here carries the same
    day, as real ones do."""
    oldenburg, cholet = pair
    pseudonym = fresh_pseudonym()
    actor = f"{cholet.url}/p/{pseudonym}"

    def update(sequence: int, interests: list[str]) -> dict[str, Any]:
        return activity(
            cholet,
            "Update",
            vector(cholet, pseudonym, sequence=sequence, interests=interests),
        )

    async def held() -> list[str] | None:
        vectors = await remote_vectors(oldenburg)
        return vectors[actor]["interests"] if actor in vectors else None

    async with httpx.AsyncClient() as client:
        assert (
            await post(client, oldenburg, cholet, update(20, ["sport.running"]))
        ).status_code == 202
        assert await held() == ["sport.running"]
        # Delivered late: sent before the one above.
        assert (
            await post(client, oldenburg, cholet, update(10, ["games.chess"]))
        ).status_code == 202
        assert await held() == ["sport.running"]
        assert (
            await post(client, oldenburg, cholet, withdrawal(cholet, pseudonym, 30))
        ).status_code == 202
        assert await held() is None
        # An update sent before the withdrawal must not bring the profile back ...
        assert (
            await post(client, oldenburg, cholet, update(25, ["sport.rowing"]))
        ).status_code == 202
        assert await held() is None
        # ... a resumed profile (sent after the withdrawal) may.
        assert (
            await post(client, oldenburg, cholet, update(40, ["sport.sailing"]))
        ).status_code == 202
        assert await held() == ["sport.sailing"]
        # A withdrawal older than the resumed profile changes nothing.
        assert (
            await post(client, oldenburg, cholet, withdrawal(cholet, pseudonym, 35))
        ).status_code == 202
        assert await held() == ["sport.sailing"]


async def test_a_profile_delete_before_the_update_it_supersedes_wins(pair) -> None:
    oldenburg, cholet = pair
    pseudonym = fresh_pseudonym()
    actor = f"{cholet.url}/p/{pseudonym}"
    async with httpx.AsyncClient() as client:
        assert (
            await post(client, oldenburg, cholet, withdrawal(cholet, pseudonym, 8))
        ).status_code == 202
        late = activity(cholet, "Update", vector(cholet, pseudonym, sequence=7))
        assert (await post(client, oldenburg, cholet, late)).status_code == 202
        assert actor not in await remote_vectors(oldenburg)
        resumed = activity(cholet, "Update", vector(cholet, pseudonym, sequence=9))
        assert (await post(client, oldenburg, cholet, resumed)).status_code == 202
        assert actor in await remote_vectors(oldenburg)


async def test_nothing_comes_back_after_the_actor_is_deleted(pair) -> None:
    """An account deletion is final, whatever sequence a late ``Update`` carries."""
    oldenburg, cholet = pair
    pseudonym = fresh_pseudonym()
    actor = f"{cholet.url}/p/{pseudonym}"
    async with httpx.AsyncClient() as client:
        first = activity(cholet, "Update", vector(cholet, pseudonym, sequence=3))
        assert (await post(client, oldenburg, cholet, first)).status_code == 202
        assert actor in await remote_vectors(oldenburg)
        gone = withdrawal(cholet, pseudonym, 4, former="Person")
        assert (await post(client, oldenburg, cholet, gone)).status_code == 202
        assert actor not in await remote_vectors(oldenburg)
        for sequence in (2, 5, 10**12):
            late = activity(cholet, "Update", vector(cholet, pseudonym, sequence=sequence))
            assert (await post(client, oldenburg, cholet, late)).status_code == 202
        assert actor not in await remote_vectors(oldenburg)
        # A profile withdrawal arriving after the deletion does not soften it.
        again = withdrawal(cholet, pseudonym, 11)
        assert (await post(client, oldenburg, cholet, again)).status_code == 202
        late = activity(cholet, "Update", vector(cholet, pseudonym, sequence=12))
        assert (await post(client, oldenburg, cholet, late)).status_code == 202
        assert actor not in await remote_vectors(oldenburg)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"formerType": "Note"}, id="unknown-former-type"),
        pytest.param({"formerType": None}, id="no-former-type"),
        pytest.param({"sequence": None}, id="no-sequence"),
        pytest.param({"sequence": 1.5}, id="fractional-sequence"),
        pytest.param({"deleted": "today"}, id="deleted-not-a-timestamp"),
    ],
)
async def test_malformed_withdrawals_get_400(pair, change: dict[str, Any]) -> None:
    oldenburg, cholet = pair
    pseudonym = fresh_pseudonym()
    actor = f"{cholet.url}/p/{pseudonym}"
    async with httpx.AsyncClient() as client:
        kept = activity(cholet, "Update", vector(cholet, pseudonym, sequence=1))
        assert (await post(client, oldenburg, cholet, kept)).status_code == 202
        tombstone = {
            "type": "Tombstone",
            "id": actor,
            "formerType": "InterestProfile",
            "deleted": stamp(0),
            "sequence": 2,
            **change,
        }
        response = await post(client, oldenburg, cholet, activity(cholet, "Delete", tombstone))
    assert response.status_code == 400, response.text
    assert actor in await remote_vectors(oldenburg)
