"""A signature is bound to the node that receives it, signed GETs may leave the query
out, and deeply nested JSON is the sender's error: real signed HTTP against a running
node, with Cholet's real keys signing.

Oldenburg answers under its base_url's authority and, as if behind a proxy reached
under a second name, under ``localhost:<port>`` (``node.public_authorities``).
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiohttp import web

from federation.documents import ACTIVITY_JSON
from federation.json_limits import MAX_DEPTH
from federation.keys import generate_rsa_key
from federation.proofs import create_proof
from federation.signatures import sign_request, sign_request_rfc9421
from node.peers.fetch import PeerFetchError, fetch_json
from node.runtime.config import ConfigError, config_from_mapping
from support.federation import (
    FAST,
    ProbeLog,
    inbox_rows,
    key_id,
    probe,
    probe_extension,
    signed,
    trusting,
    wait_for,
)
from support.nodes import RunningNode, bound_socket, node_document, node_pair

pytestmark = pytest.mark.asyncio(loop_scope="module")


class Pair:
    def __init__(self, oldenburg: RunningNode, cholet: RunningNode, log: ProbeLog) -> None:
        self.oldenburg = oldenburg
        self.cholet = cholet
        self.log = log
        self.inbox = f"{oldenburg.url}/inbox"

    @property
    def alias(self) -> str:
        """Oldenburg's second public name, as a proxy in front of it would be reached."""
        return f"localhost:{self.oldenburg.config.listen.port}"

    async def post(
        self,
        document: Any,
        *,
        signed_for: str | None = None,
        body: bytes | None = None,
    ) -> httpx.Response:
        """POST to Oldenburg's inbox, signed by Cholet for ``signed_for`` (the inbox URL
        under another authority), sent to Oldenburg's socket whatever that says."""
        url = self.inbox if signed_for is None else f"http://{signed_for}/inbox"
        headers, payload = signed(url, document, signer=self.cholet, body=body)
        async with httpx.AsyncClient() as http:
            return await http.post(self.inbox, content=payload, headers=headers)

    async def get(self, url: str, headers: dict[str, str]) -> httpx.Response:
        async with httpx.AsyncClient() as http:
            return await http.get(url, headers=headers)


def _with_alias(oldenburg: RunningNode, cholet: RunningNode) -> None:
    alias = f"localhost:{oldenburg.config.listen.port}"
    node = oldenburg.config.node.model_copy(update={"public_authorities": [alias]})
    oldenburg.config = oldenburg.config.model_copy(update={"node": node})


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def pair(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pair]:
    directory: Path = tmp_path_factory.mktemp("binding")
    log = ProbeLog()
    async with node_pair(
        directory, overrides=FAST, extensions=[probe_extension(log)], configure=_with_alias
    ) as (oldenburg, cholet):
        await wait_for(lambda: trusting(oldenburg, cholet), what="Oldenburg trusting Cholet")
        yield Pair(oldenburg, cholet, log)


async def _stored(pair: Pair, activity_id: str) -> bool:
    return any(row.activity_id == activity_id for row in await inbox_rows(pair.oldenburg))


# -- the signed authority ------------------------------------------------------------------


async def test_post_signed_for_another_node_is_401_and_not_stored(pair: Pair) -> None:
    other = bound_socket()
    try:
        elsewhere = f"127.0.0.1:{other.getsockname()[1]}"
        activity = probe(pair.cholet, 1)
        response = await pair.post(activity, signed_for=elsewhere)
    finally:
        other.close()
    assert response.status_code == 401, response.text
    reason = response.json()["error"]
    assert elsewhere in reason and "not this node" in reason
    assert pair.oldenburg.config.host in reason
    assert not await _stored(pair, activity["id"])
    assert activity["id"] not in pair.log.applied


async def test_post_signed_for_a_configured_public_authority_is_accepted(pair: Pair) -> None:
    activity = probe(pair.cholet, 2)
    response = await pair.post(activity, signed_for=pair.alias)
    assert response.status_code == 202, response.text
    assert await _stored(pair, activity["id"])


# -- the addressees ------------------------------------------------------------------------


async def test_activity_addressed_to_another_node_is_403_and_not_stored(pair: Pair) -> None:
    activity = probe(pair.cholet, 3, to=[f"{pair.cholet.url}/actor"])
    response = await pair.post(activity)
    assert response.status_code == 403, response.text
    reason = response.json()["error"]
    assert "not addressed to this node" in reason and pair.cholet.url in reason
    assert not await _stored(pair, activity["id"])


async def test_activity_addressed_to_no_one_is_403(pair: Pair) -> None:
    activity = probe(pair.cholet, 4, to=[])
    response = await pair.post(activity)
    assert response.status_code == 403, response.text
    assert "names no addressee" in response.json()["error"]
    assert not await _stored(pair, activity["id"])


@pytest.mark.parametrize(
    "field",
    ["cc", "audience"],
)
async def test_cc_and_audience_count_as_addressing(pair: Pair, field: str) -> None:
    activity = probe(pair.cholet, 5, to=["https://www.w3.org/ns/activitystreams#Public"])
    activity[field] = [pair.oldenburg.config.actor_url]
    response = await pair.post(activity)
    assert response.status_code == 202, response.text


@pytest.mark.parametrize(
    ("addressee", "accepted"),
    [
        ("{url}/p/" + "a" * 64, True),
        ("http://{alias}/actor", True),
        ("{url}/p/", False),
        ("{url}/p/abc/inbox", False),
        ("{url}/actor?x=1", False),
        ("{url}/inbox", False),
    ],
)
async def test_pseudonym_actors_and_aliases_are_this_node(
    pair: Pair, addressee: str, accepted: bool
) -> None:
    to = addressee.format(url=pair.oldenburg.url, alias=pair.alias)
    response = await pair.post(probe(pair.cholet, 6, to=[to]))
    assert response.status_code == (202 if accepted else 403), response.text


# -- signed GETs and the query -------------------------------------------------------------


def _get_headers(pair: Pair, url: str, scheme: str = "cavage") -> dict[str, str]:
    sign = sign_request if scheme == "cavage" else sign_request_rfc9421
    return sign(
        "GET",
        url,
        {"Accept": ACTIVITY_JSON},
        None,
        key_id=key_id(pair.cholet),
        private_key=pair.cholet.keys.rsa,
    )


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
@pytest.mark.parametrize("covers_query", [True, False])
async def test_signed_get_of_a_page_with_or_without_the_query(
    pair: Pair, scheme: str, covers_query: bool
) -> None:
    collection = f"{pair.oldenburg.url}/vectors"
    page = f"{collection}?page=start"
    headers = _get_headers(pair, page if covers_query else collection, scheme)
    response = await pair.get(page, headers)
    assert response.status_code == 200, response.text
    assert response.json()["type"] == "OrderedCollectionPage"


async def test_unsigned_get_of_a_page_is_401(pair: Pair) -> None:
    response = await pair.get(f"{pair.oldenburg.url}/vectors?page=start", {})
    assert response.status_code == 401


async def test_get_signed_for_another_path_is_still_401(pair: Pair) -> None:
    signed_for = _get_headers(pair, f"{pair.oldenburg.url}/ns")
    response = await pair.get(f"{pair.oldenburg.url}/vectors?page=start", signed_for)
    assert response.status_code == 401


async def test_get_signed_for_another_node_is_401(pair: Pair) -> None:
    other = bound_socket()
    try:
        elsewhere = f"http://127.0.0.1:{other.getsockname()[1]}/vectors?page=start"
        headers = _get_headers(pair, elsewhere)
    finally:
        other.close()
    headers.pop("Host")
    response = await pair.get(f"{pair.oldenburg.url}/vectors?page=start", headers)
    # httpx sets the real Host; the signature was over another one.
    assert response.status_code == 401


async def test_post_keeps_the_exact_target(pair: Pair) -> None:
    """A POST signed over /inbox but sent to /inbox?x=1 does not verify."""
    activity = probe(pair.cholet, 7)
    headers, payload = signed(pair.inbox, activity, signer=pair.cholet)
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{pair.inbox}?x=1", content=payload, headers=headers)
    assert response.status_code == 401, response.text
    assert not await _stored(pair, activity["id"])


# -- nesting -------------------------------------------------------------------------------


def _nested(depth: int) -> object:
    value: object = "bottom"
    for _ in range(depth):
        value = {"n": value}
    return value


def _proven_deep_activity(pair: Pair, depth: int) -> bytes:
    """A Probe carrying ``depth`` nested objects, with a valid proof by Cholet's key.

    Building and proving it walks the document recursively, so the interpreter's
    limit is raised for that alone; the node must refuse it without doing the same.
    """
    activity = probe(pair.cholet, 8, deep=_nested(depth))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, depth * 6))
    try:
        proven = create_proof(
            activity, pair.cholet.keys.ed25519, f"{pair.cholet.config.actor_url}#ed25519-key"
        )
        return json.dumps(proven).encode()
    finally:
        sys.setrecursionlimit(limit)


@pytest.mark.parametrize("depth", [MAX_DEPTH, 10_000])
async def test_deeply_nested_proven_activity_is_400_without_a_traceback(
    pair: Pair, depth: int, caplog: pytest.LogCaptureFixture
) -> None:
    body = _proven_deep_activity(pair, depth)
    response = await pair.post(None, body=body)
    assert response.status_code == 400, response.text
    assert f"nested deeper than {MAX_DEPTH} levels" in response.json()["error"]
    assert not [record for record in caplog.records if record.exc_info]


async def test_nesting_within_the_limit_is_accepted(pair: Pair) -> None:
    # The probe's own levels (activity, object) plus these stay within the limit.
    activity = probe(pair.cholet, 9, deep=_nested(MAX_DEPTH - 3))
    response = await pair.post(activity)
    assert response.status_code == 202, response.text


async def test_deeply_nested_document_from_a_peer_is_a_fetch_error() -> None:
    depth = 10_000
    text = '{"a":' * depth + "1" + "}" * depth

    async def deep(request: web.Request) -> web.Response:
        return web.Response(text=text, content_type=ACTIVITY_JSON)

    app = web.Application()
    app.router.add_get("/vectors", deep)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = bound_socket()
    await web.SockSite(runner, sock).start()
    try:
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/vectors?page={uuid.uuid4().hex}"
        async with httpx.AsyncClient() as client:
            with pytest.raises(PeerFetchError) as refused:
                await fetch_json(
                    client,
                    url,
                    key_id="http://127.0.0.1/actor#main-key",
                    private_key=generate_rsa_key(2048),
                )
        assert f"nested deeper than {MAX_DEPTH} levels" in refused.value.reason
        assert refused.value.status is None
    finally:
        await runner.cleanup()
        sock.close()


# -- the setting ---------------------------------------------------------------------------


async def test_public_authorities_are_hosts_with_an_optional_port(tmp_path: Path) -> None:
    document = node_document("oldenburg", 8401, "sqlite+aiosqlite:///node.db")
    document["node"]["public_authorities"] = ["Zwilling.Oldenburg.de", "[::1]:8443"]
    config = config_from_mapping(document, data_dir=tmp_path, environ={})
    assert config.authorities == ("127.0.0.1:8401", "zwilling.oldenburg.de", "[::1]:8443")
    for wrong in ("https://zwilling.oldenburg.de", "zwilling.oldenburg.de/inbox", "a b"):
        document["node"]["public_authorities"] = [wrong]
        with pytest.raises(ConfigError, match="public_authorities"):
            config_from_mapping(document, data_dir=tmp_path, environ={})
