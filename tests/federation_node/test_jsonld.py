"""Every document a node publishes expands with a standard JSON-LD processor (pyld)
into absolute IRIs, with no term dropped and none left as a blank-node or relative
IRI, and without fetching a single context: the loader serves only local copies of
the well-known contexts (tests/federation/contexts) and refuses everything else.

The documents are taken from a running node (the actor, ``/outbox``, a pseudonym
actor, ``/vectors`` and every page, the vector ``Update`` and ``Delete`` it queued) or
built by the node's own builders (contact activities, the report, the actor
``Update`` of a key rotation).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pyld import jsonld

from federation.documents import (
    ACTIVITY_JSON,
    ACTIVITYSTREAMS_CONTEXT,
    DATA_INTEGRITY_CONTEXT,
    DID_CONTEXT,
    EXTENSION_CONTEXT,
    EXTENSION_NAMESPACE,
    MULTIKEY_CONTEXT,
    SECURITY_CONTEXT,
)
from node.contacts import _wire as wire
from node.federation.key_rotation import actor_update
from support.federation import FAST, outbox_rows, trusting, wait_for
from support.nodes import RunningNode, node_pair
from support.population import add_resident, person, pseudonym_urls, set_paused, signed_fetch

pytestmark = pytest.mark.asyncio(loop_scope="module")

CONTEXTS = Path(__file__).parents[1] / "federation" / "contexts"
LOCAL_CONTEXTS = {
    ACTIVITYSTREAMS_CONTEXT: "activitystreams.jsonld",
    SECURITY_CONTEXT: "security-v1.jsonld",
    DATA_INTEGRITY_CONTEXT: "data-integrity-v1.jsonld",
    DID_CONTEXT: "did-v1.jsonld",
    MULTIKEY_CONTEXT: "multikey-v1.jsonld",
}
SEC = "https://w3id.org/security#"
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# Values that expansion keeps as one JSON literal: nothing inside them is a term.
_JSON_LITERALS = frozenset(
    term
    for term, definition in EXTENSION_CONTEXT.items()
    if isinstance(definition, dict) and definition.get("@type") == "@json"
)
_KEYWORD_ALIASES = frozenset({"id", "type"})


def load_document(url: str, options: dict[str, Any]) -> dict[str, Any]:
    """The only contexts a reader needs: local copies of the well-known ones."""
    name = LOCAL_CONTEXTS.get(url)
    if name is None:
        raise AssertionError(f"the processor tried to fetch {url}")
    document = json.loads((CONTEXTS / name).read_text(encoding="utf-8"))
    return {"contextUrl": None, "documentUrl": url, "document": document}


def _is_absolute(iri: object) -> bool:
    return isinstance(iri, str) and bool(_ABSOLUTE.match(iri)) and not iri.startswith("_:")


def _expanded_problems(value: object, where: str, found: list[str]) -> int:
    """Walk an expanded document; note every non-absolute IRI; count the properties."""
    count = 0
    if isinstance(value, list):
        for index, item in enumerate(value):
            count += _expanded_problems(item, f"{where}[{index}]", found)
        return count
    if not isinstance(value, dict):
        return 0
    if "@value" in value:
        kind = value.get("@type")
        if kind is not None and kind != "@json" and not _is_absolute(kind):
            found.append(f"{where}: literal type {kind!r}")
        return 0
    for key, item in value.items():
        if key == "@id" and not _is_absolute(item):
            found.append(f"{where}: id {item!r}")
        elif key == "@type":
            for kind in item if isinstance(item, list) else [item]:
                if not _is_absolute(kind):
                    found.append(f"{where}: type {kind!r}")
        elif key in ("@graph", "@list", "@set"):
            count += _expanded_problems(item, f"{where}.{key}", found)
        elif not key.startswith("@"):
            if not _is_absolute(key):
                found.append(f"{where}: property {key!r}")
            count += 1 + _expanded_problems(item, f"{where}.{key}", found)
    return count


def _properties(value: object) -> int:
    """How many properties the compact document states (nulls say nothing, and
    ``id`` / ``type`` are keywords, not properties)."""
    if isinstance(value, list):
        return sum(_properties(item) for item in value)
    if not isinstance(value, dict):
        return 0
    count = 0
    for key, item in value.items():
        if key.startswith("@") or key in _KEYWORD_ALIASES or item is None:
            continue
        count += 1
        if key not in _JSON_LITERALS:
            count += _properties(item)
    return count


def expand(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The document expanded; fails naming each term that is not an absolute IRI and
    when expansion dropped a property."""
    expanded: list[dict[str, Any]] = jsonld.expand(document, {"documentLoader": load_document})
    found: list[str] = []
    count = _expanded_problems(expanded, "", found)
    assert not found, f"{document.get('type')}: " + "; ".join(found)
    assert count == _properties(document), f"{document.get('type')}: a property was dropped"
    return expanded


class Published:
    def __init__(self, oldenburg: RunningNode, cholet: RunningNode) -> None:
        self.oldenburg = oldenburg
        self.cholet = cholet
        self.documents: dict[str, dict[str, Any]] = {}


async def _get(url: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        response = await http.get(url, headers={"Accept": ACTIVITY_JSON})
    assert response.status_code == 200, (url, response.text)
    document: dict[str, Any] = response.json()
    return document


def _contact_activities(oldenburg: RunningNode, cholet: RunningNode) -> Iterator[tuple[str, Any]]:
    base = oldenburg.url
    local, remote = f"{base}/p/{'a' * 64}", f"{cholet.url}/p/{'b' * 64}"
    now = datetime.now(UTC)
    follow_id = f"{cholet.url}/activities/1"
    yield "Follow", wire.follow(base, local, remote, now)
    yield "Accept", wire.answer(base, "Accept", local, remote, follow_id, now)
    yield "Reject", wire.answer(base, "Reject", local, remote, follow_id, now)
    yield "Undo", wire.undo(base, local, remote, follow_id, now)
    yield "Block", wire.block(base, local, remote, now)
    yield "Update of Person", wire.reveal(base, local, remote, "Anna", "Chess, hiking", now)
    yield "Create of Note", wire.note(base, local, remote, "Bonjour !", now)
    yield "Flag", wire.flag(base, remote, "harassment", [f"{cholet.url}/notes/1"], now)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def published(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Published]:
    directory = tmp_path_factory.mktemp("jsonld")
    async with node_pair(directory, overrides=FAST, extensions=[]) as (oldenburg, cholet):
        await wait_for(lambda: trusting(oldenburg, cholet), what="Oldenburg trusting Cholet")
        await wait_for(lambda: trusting(cholet, oldenburg), what="Cholet trusting Oldenburg")
        result = Published(oldenburg, cholet)
        docs = result.documents
        staying = await add_resident(oldenburg, person(["sport.cycling", "games.chess"]))
        pausing = await add_resident(
            oldenburg, person(["outdoors.hiking"], occupation=None, learning=["fr"])
        )
        await set_paused(oldenburg, pausing, True)
        docs["actor"] = await _get(oldenburg.config.actor_url)
        docs["outbox"] = await _get(f"{oldenburg.url}/outbox")
        async with httpx.AsyncClient() as http:
            pseudonym = (await pseudonym_urls(oldenburg, staying))[cholet.config.actor_url]
            docs["pseudonym actor"] = await signed_fetch(http, pseudonym, cholet)
            collection = await signed_fetch(http, f"{oldenburg.url}/vectors", cholet)
            docs["vectors collection"] = collection
            url: str | None = collection["first"]
            pages = 0
            while url is not None:
                page = await signed_fetch(http, url, cholet)
                pages += 1
                docs[f"vectors page {pages}"] = page
                url = page.get("next")
        for row in await outbox_rows(oldenburg):
            kind = f"{row.payload['type']} of {row.payload['object']['type']}"
            if row.payload["object"].get("formerType"):
                kind += f" ({row.payload['object']['formerType']})"
            docs.setdefault(kind, row.payload)
        docs["Update of Service"] = dict(
            actor_update(
                oldenburg.config, docs["actor"], cholet.config.actor_url, datetime.now(UTC)
            )
        )
        for kind, activity in _contact_activities(oldenburg, cholet):
            docs[kind] = dict(activity)
        yield result


async def test_every_kind_the_node_publishes_was_collected(published: Published) -> None:
    kinds = set(published.documents)
    assert {
        "actor",
        "vectors collection",
        "vectors page 1",
        "Update of InterestProfile",
        "Delete of Tombstone (InterestProfile)",
        "Update of Service",
        "Flag",
    } <= kinds, kinds
    page = published.documents["vectors page 1"]
    assert page["orderedItems"], "the page carries at least one InterestProfile"


async def test_every_published_document_expands_to_absolute_iris(published: Published) -> None:
    for kind, document in published.documents.items():
        try:
            expand(document)
        except AssertionError as exc:
            raise AssertionError(f"{kind}: {exc}") from None


async def test_actor_has_an_rsa_public_key_and_an_ed25519_multikey(published: Published) -> None:
    actor = published.documents["actor"]
    assert actor["@context"] == [
        ACTIVITYSTREAMS_CONTEXT,
        SECURITY_CONTEXT,
        DATA_INTEGRITY_CONTEXT,
        DID_CONTEXT,
        MULTIKEY_CONTEXT,
    ]
    (node,) = expand(actor)
    keys = node[f"{SEC}publicKey"]
    assert keys and all(key[f"{SEC}publicKeyPem"][0]["@value"] for key in keys)
    methods = node[f"{SEC}assertionMethod"]
    assert methods, "assertionMethod is empty once expanded"
    for method in methods:
        assert method["@type"] == [f"{SEC}Multikey"]
        (multibase,) = method[f"{SEC}publicKeyMultibase"]
        assert multibase["@type"] == f"{SEC}multibase"
        assert multibase["@value"].startswith("z6Mk")  # an Ed25519 public key
        assert method[f"{SEC}controller"] == [{"@id": actor["id"]}]


async def test_extension_terms_are_the_same_iris_on_every_node(published: Published) -> None:
    assert not EXTENSION_NAMESPACE.startswith(("https://zwilling.example", "http"))
    page = published.documents["vectors page 1"]
    (node,) = expand(page)
    (items,) = node["https://www.w3.org/ns/activitystreams#items"]  # orderedItems
    profile = items["@list"][0]
    assert profile["@type"] == [f"{EXTENSION_NAMESPACE}InterestProfile"]
    assert f"{EXTENSION_NAMESPACE}interests" in profile
    tombstone = published.documents["Delete of Tombstone (InterestProfile)"]
    (deleted,) = expand(tombstone)
    (former,) = deleted["https://www.w3.org/ns/activitystreams#object"][0][
        "https://www.w3.org/ns/activitystreams#formerType"
    ]
    assert former == {"@id": f"{EXTENSION_NAMESPACE}InterestProfile"}


async def test_ns_serves_the_embedded_extension_context(published: Published) -> None:
    served = await _get(f"{published.oldenburg.url}/ns")
    assert served == {"@context": EXTENSION_CONTEXT}
    assert await _get(f"{published.oldenburg.url}/ns/zwilling") == served
