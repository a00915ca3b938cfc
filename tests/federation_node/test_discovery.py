"""Discovery: WebFinger, the Service actor, NodeInfo 2.1, the context and the outbox.

One pair of nodes serves the whole module; only the NodeInfo case adds residents, and it
counts them against the total it saw before adding them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from federation.documents import ACTIVITY_JSON, JRD_JSON, LD_JSON_AS, NODEINFO_JSON
from federation.keys import fingerprint, load_public_key_pem, parse_multikey
from node.models import Resident
from node.runtime import appkeys
from support.federation import FAST, trusting, wait_for
from support.nodes import RunningNode, node_pair

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def pair(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[RunningNode, RunningNode]]:
    async with node_pair(tmp_path_factory.mktemp("discovery"), overrides=FAST) as nodes:
        yield nodes


async def test_webfinger_finds_the_actor_and_refuses_the_rest(
    pair: tuple[RunningNode, RunningNode],
) -> None:
    oldenburg, _ = pair
    async with httpx.AsyncClient() as http:
        host = oldenburg.config.host
        found = await http.get(
            f"{oldenburg.url}/.well-known/webfinger", params={"resource": f"acct:oldenburg@{host}"}
        )
        assert found.status_code == 200
        assert found.headers["content-type"].startswith(JRD_JSON)
        links = [link for link in found.json()["links"] if link["rel"] == "self"]
        assert links == [{"rel": "self", "type": ACTIVITY_JSON, "href": oldenburg.config.actor_url}]
        by_url = await http.get(
            f"{oldenburg.url}/.well-known/webfinger", params={"resource": oldenburg.url}
        )
        assert by_url.status_code == 200
        for resource in (
            f"acct:cholet@{host}",
            "acct:oldenburg@elsewhere.example",
            "https://elsewhere.example/actor",
        ):
            response = await http.get(
                f"{oldenburg.url}/.well-known/webfinger", params={"resource": resource}
            )
            assert response.status_code == 404, resource
        for params in (
            {},
            {"resource": "acct:nobody"},
            {"resource": "mailto:x@y"},
            {"resource": "acct:@host"},
        ):
            response = await http.get(f"{oldenburg.url}/.well-known/webfinger", params=params)
            assert response.status_code == 400, params
            assert response.json()["error"]


async def test_actor_is_a_service_with_both_keys(pair: tuple[RunningNode, RunningNode]) -> None:
    oldenburg, _ = pair
    async with httpx.AsyncClient() as http:
        response = await http.get(oldenburg.config.actor_url, headers={"Accept": ACTIVITY_JSON})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(ACTIVITY_JSON)
        actor = response.json()
        assert actor["type"] == "Service"
        assert actor["id"] == oldenburg.config.actor_url
        assert actor["preferredUsername"] == "oldenburg"
        assert actor["name"] == "Oldenburg"
        assert actor["inbox"] == f"{oldenburg.url}/inbox"
        assert actor["outbox"] == f"{oldenburg.url}/outbox"
        # FEP-521a: did/v1 defines assertionMethod, multikey/v1 the Multikey.
        assert "https://www.w3.org/ns/did/v1" in actor["@context"]
        assert "https://w3id.org/security/multikey/v1" in actor["@context"]
        rsa = load_public_key_pem(actor["publicKey"]["publicKeyPem"])
        assert rsa.key_size >= 2048
        assert fingerprint(rsa) == fingerprint(oldenburg.keys.rsa)
        assert actor["publicKey"]["owner"] == actor["id"]
        multikey = actor["assertionMethod"][0]
        assert multikey["type"] == "Multikey"
        assert fingerprint(parse_multikey(multikey["publicKeyMultibase"])) == fingerprint(
            oldenburg.keys.ed25519
        )
        ld = await http.get(oldenburg.config.actor_url, headers={"Accept": LD_JSON_AS})
        assert ld.status_code == 200
        assert ld.headers["content-type"].startswith("application/ld+json")
        assert ld.json() == actor


async def test_nodeinfo_counts_residents_and_names_city_languages_peers(
    pair: tuple[RunningNode, RunningNode],
) -> None:
    oldenburg, cholet = pair
    async with httpx.AsyncClient() as http:
        assert oldenburg.app is not None
        index = await http.get(f"{oldenburg.url}/.well-known/nodeinfo")
        assert index.status_code == 200
        (link,) = index.json()["links"]
        earlier = (await http.get(link["href"])).json()["usage"]["users"]["total"]
        async with oldenburg.app[appkeys.DATABASE].write() as session:
            for n in range(3):
                session.add(
                    Resident(
                        email=f"r{n}@example.org",
                        password_hash="x",
                        display_name=f"R{n}",
                        kind="person",
                    )
                )
        await wait_for(lambda: trusting(oldenburg, cholet), what="Oldenburg trusting Cholet")
        index = await http.get(f"{oldenburg.url}/.well-known/nodeinfo")
        assert index.status_code == 200
        (link,) = index.json()["links"]
        assert link["rel"] == "http://nodeinfo.diaspora.software/ns/schema/2.1"
        response = await http.get(link["href"])
        assert response.status_code == 200
        assert response.headers["content-type"] == NODEINFO_JSON
        info = response.json()
        assert info["version"] == "2.1"
        assert info["protocols"] == ["activitypub"]
        assert info["software"]["name"] == "zwilling"
        assert info["usage"]["users"]["total"] == earlier + 3
        metadata = info["metadata"]
        assert metadata["city"] == "Oldenburg"
        assert {"de", "fr", "en"} <= set(metadata["languages"])
        assert "taxonomyVersion" in metadata
        assert metadata["peers"] == [{"actor": cholet.config.actor_url, "name": "Cholet"}]


async def test_context_and_empty_outbox(pair: tuple[RunningNode, RunningNode]) -> None:
    oldenburg, _ = pair
    async with httpx.AsyncClient() as http:
        context = await http.get(f"{oldenburg.url}/ns")
        assert context.status_code == 200
        assert context.headers["content-type"].startswith("application/ld+json")
        assert "InterestProfile" in context.json()["@context"]
        outbox = await http.get(f"{oldenburg.url}/outbox", headers={"Accept": ACTIVITY_JSON})
        assert outbox.status_code == 200
        assert outbox.headers["content-type"].startswith(ACTIVITY_JSON)
        assert outbox.json()["type"] == "OrderedCollection"
        assert outbox.json()["totalItems"] == 0
        assert outbox.json()["orderedItems"] == []
