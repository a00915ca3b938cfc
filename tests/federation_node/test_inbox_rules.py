"""Every inbox rule, each with real signed HTTP requests against a running node.

Cholet's real keys sign (Oldenburg pins them through its config); Oldenburg runs
the probe handler (``Create`` of a ``Probe``) so that "applied" can be observed.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from federation.digest import digest_header
from federation.keys import generate_rsa_key
from federation.signatures import sign_request_rfc9421
from federation.signatures._message import format_http_date
from support.federation import (
    FAST,
    ProbeLog,
    ScriptedPeer,
    inbox_rows,
    key_id,
    probe,
    probe_extension,
    signed,
    trusting,
    wait_for,
)
from support.nodes import RunningNode, node_pair

pytestmark = pytest.mark.asyncio(loop_scope="module")


class Pair:
    def __init__(self, oldenburg: RunningNode, cholet: RunningNode, log: ProbeLog) -> None:
        self.oldenburg = oldenburg
        self.cholet = cholet
        self.log = log
        self.inbox = f"{oldenburg.url}/inbox"

    async def post(
        self, document: object = None, *, headers: dict[str, str] | None = None, **options: object
    ) -> httpx.Response:
        signed_headers, body = signed(self.inbox, document, signer=self.cholet, **options)
        signed_headers.update(headers or {})
        async with httpx.AsyncClient() as http:
            return await http.post(self.inbox, content=body, headers=signed_headers)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def pair(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pair]:
    directory: Path = tmp_path_factory.mktemp("inbox")
    log = ProbeLog()
    async with node_pair(directory, overrides=FAST, extensions=[probe_extension(log)]) as (
        oldenburg,
        cholet,
    ):
        await wait_for(lambda: trusting(oldenburg, cholet), what="Oldenburg trusting Cholet")
        yield Pair(oldenburg, cholet, log)


def _raw_signature(
    pair: Pair, body: bytes, covered: list[str], *, date: datetime | None = None
) -> dict[str, str]:
    """A draft-cavage signature over exactly ``covered`` (to leave components out)."""
    host = pair.oldenburg.config.host
    headers = {
        "Host": host,
        "Date": format_http_date(date or datetime.now(UTC)),
        "Digest": digest_header(body),
        "Content-Type": "application/activity+json",
    }
    values = {
        "(request-target)": "post /inbox",
        "host": host,
        "date": headers["Date"],
        "digest": headers["Digest"],
    }
    base = "\n".join(f"{name}: {values[name]}" for name in covered).encode()
    signature = pair.cholet.keys.rsa.sign(base, padding.PKCS1v15(), hashes.SHA256())
    headers["Signature"] = (
        f'keyId="{key_id(pair.cholet)}",algorithm="rsa-sha256",headers="{" ".join(covered)}",'
        f'signature="{base64.b64encode(signature).decode()}"'
    )
    return headers


async def _post_raw(pair: Pair, body: bytes, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(pair.inbox, content=body, headers=headers)


# -- accepted -------------------------------------------------------------------------


async def test_valid_activity_is_stored_and_applied_before_202(pair: Pair) -> None:
    activity = probe(pair.cholet, 1)
    response = await pair.post(activity)
    assert response.status_code == 202, response.text
    # Committed before the answer: a fresh connection sees the row, already applied.
    rows = [row for row in await inbox_rows(pair.oldenburg) if row.activity_id == activity["id"]]
    assert len(rows) == 1
    assert rows[0].state == "applied"
    assert rows[0].payload == activity
    assert activity["id"] in pair.log.applied


async def test_rfc9421_ed25519_signature_is_accepted(pair: Pair) -> None:
    activity = probe(pair.cholet, 2)
    body = json.dumps(activity).encode()
    headers = sign_request_rfc9421(
        "POST",
        pair.inbox,
        {"Content-Type": "application/activity+json"},
        body,
        key_id=f"{pair.cholet.config.actor_url}#ed25519-key",
        private_key=pair.cholet.keys.ed25519,
    )
    response = await _post_raw(pair, body, headers)
    assert response.status_code == 202, response.text


async def test_seen_activity_id_is_acknowledged_and_not_applied_again(pair: Pair) -> None:
    activity = probe(pair.cholet, 3)
    first = await pair.post(activity)
    again = await pair.post(activity)  # signed afresh, as a retrying sender does
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["status"] == "duplicate"
    assert pair.log.applied.count(activity["id"]) == 1


async def test_handler_failure_is_retried_from_storage(pair: Pair) -> None:
    activity = probe(pair.cholet, 4, failTimes=2)
    response = await pair.post(activity)
    assert response.status_code == 202
    (row,) = [r for r in await inbox_rows(pair.oldenburg) if r.activity_id == activity["id"]]
    assert row.state == "pending"
    assert "probe failure 1" in (row.last_error or "")

    async def applied() -> bool:
        rows = await inbox_rows(pair.oldenburg)
        return any(r.activity_id == activity["id"] and r.state == "applied" for r in rows)

    await wait_for(applied, what="the inbox worker to re-apply the row")
    assert pair.log.attempts[activity["id"]] == 3
    assert pair.log.applied.count(activity["id"]) == 1


async def test_handler_check_refuses_before_storing(pair: Pair) -> None:
    activity = probe(pair.cholet, 5, reject="no mutual consent")
    response = await pair.post(activity)
    assert response.status_code == 403
    assert response.json()["error"] == "no mutual consent"
    assert activity["id"] not in {r.activity_id for r in await inbox_rows(pair.oldenburg)}


# -- signature --------------------------------------------------------------------------


async def test_unsigned_request_is_401(pair: Pair) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(pair.inbox, json=probe(pair.cholet))
    assert response.status_code == 401
    assert "not signed" in response.json()["error"]
    assert response.headers["WWW-Authenticate"].startswith("Signature")


async def test_malformed_signature_is_401(pair: Pair) -> None:
    response = await pair.post(probe(pair.cholet), headers={"Signature": "this is not one"})
    assert response.status_code == 401
    assert "malformed" in response.json()["error"]


async def test_unknown_algorithm_is_401(pair: Pair) -> None:
    body = json.dumps(probe(pair.cholet)).encode()
    headers = _raw_signature(pair, body, ["(request-target)", "host", "date", "digest"])
    headers["Signature"] = headers["Signature"].replace("rsa-sha256", "hmac-sha256")
    response = await _post_raw(pair, body, headers)
    assert response.status_code == 401
    assert "unsupported signature algorithm 'hmac-sha256'" in response.json()["error"]


async def test_unknown_key_is_refused_without_fetching_its_host(pair: Pair) -> None:
    async with ScriptedPeer() as stranger:
        stranger_key = generate_rsa_key(2048)
        activity = {
            "id": f"{stranger.url}/activities/{uuid.uuid4()}",
            "type": "Create",
            "actor": f"{stranger.url}/actor",
            "object": {"type": "Probe"},
        }
        headers, body = signed(
            pair.inbox, activity, key=stranger_key, key_id_=f"{stranger.url}/actor#main-key"
        )
        response = await _post_raw(pair, body, headers)
        assert response.status_code in (401, 403)
        assert "not a pinned key" in response.json()["error"]
        assert stranger.requests == [] and stranger.fetches == []


async def test_peer_key_id_signed_by_another_key_is_401(pair: Pair) -> None:
    response = await pair.post(probe(pair.cholet), key=generate_rsa_key(2048))
    assert response.status_code == 401
    assert "signature" in response.json()["error"].lower()


@pytest.mark.parametrize("skew", [timedelta(hours=2, seconds=30), -timedelta(hours=1, minutes=30)])
async def test_date_outside_window_is_401_naming_the_skew(pair: Pair, skew: timedelta) -> None:
    response = await pair.post(probe(pair.cholet), now=datetime.now(UTC) + skew)
    assert response.status_code == 401
    reason = response.json()["error"]
    expected = "2 h" if skew > timedelta(0) else "1 h 30 min"
    assert expected in reason and ("ahead" in reason or "behind" in reason)


@pytest.mark.parametrize("left_out", ["digest", "date", "host", "(request-target)"])
async def test_signature_must_cover_target_host_date_digest(pair: Pair, left_out: str) -> None:
    body = json.dumps(probe(pair.cholet)).encode()
    covered = [c for c in ("(request-target)", "host", "date", "digest") if c != left_out]
    response = await _post_raw(pair, body, _raw_signature(pair, body, covered))
    assert response.status_code == 401
    assert "does not cover" in response.json()["error"]
    assert left_out in response.json()["error"]


async def test_full_coverage_by_hand_is_accepted(pair: Pair) -> None:
    body = json.dumps(probe(pair.cholet)).encode()
    covered = ["(request-target)", "host", "date", "digest"]
    response = await _post_raw(pair, body, _raw_signature(pair, body, covered))
    assert response.status_code == 202, response.text


async def test_digest_not_matching_the_body_is_401(pair: Pair) -> None:
    headers, body = signed(pair.inbox, probe(pair.cholet), signer=pair.cholet)
    tampered = body.replace(b'"n": 0', b'"n": 9')
    assert tampered != body
    response = await _post_raw(pair, tampered, headers)
    assert response.status_code == 401
    assert "does not match the received body" in response.json()["error"]


# -- size and shape ---------------------------------------------------------------------


async def test_declared_body_over_limit_is_413(pair: Pair) -> None:
    activity = probe(pair.cholet, padding="x" * (300 * 1024))
    response = await pair.post(activity)
    assert response.status_code == 413
    assert "limit" in response.json()["error"]


async def test_declared_length_is_refused_before_the_body_is_sent(pair: Pair) -> None:
    headers, _ = signed(pair.inbox, probe(pair.cholet), signer=pair.cholet)
    headers["Content-Length"] = str(10**9)
    port = pair.oldenburg.config.listen.port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = "POST /inbox HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    writer.write(head.encode() + b"\r\n")  # and not a byte of the gigabyte
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), timeout=5)
    writer.close()
    assert b" 413 " in status_line


async def test_chunked_body_over_limit_is_413_while_reading(pair: Pair) -> None:
    headers, body = signed(
        pair.inbox, probe(pair.cholet, padding="y" * (300 * 1024)), signer=pair.cholet
    )

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 16 * 1024):
            yield body[start : start + 16 * 1024]

    headers.pop("Content-Length", None)
    async with httpx.AsyncClient() as http:
        response = await http.post(pair.inbox, content=chunks(), headers=headers)
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"type": "Create"}', "id"),
        (b'{"id": "https://x", "type": "Create", "actor": 5, "object": {}}', "actor"),
        (b"NaN", "not JSON"),
        (b"[" * 100000 + b"]" * 100000, "JSON"),
        ("\u00ff".encode("latin-1"), "not JSON"),
    ],
)
async def test_bad_body_is_400_with_a_reason(pair: Pair, body: bytes, reason: str) -> None:
    headers, _ = signed(pair.inbox, None, signer=pair.cholet, body=body)
    response = await _post_raw(pair, body, headers)
    assert response.status_code == 400, response.text
    assert reason in response.json()["error"]


async def test_unknown_type_and_unsupported_activity_are_400(pair: Pair) -> None:
    strange = probe(pair.cholet)
    strange["type"] = "Frobnicate"
    response = await pair.post(strange)
    assert response.status_code == 400
    assert "not an ActivityStreams activity type" in response.json()["error"]
    unhandled = probe(pair.cholet)
    unhandled["object"]["type"] = "Sculpture"
    response = await pair.post(unhandled)
    assert response.status_code == 400
    assert "unsupported activity" in response.json()["error"]


# -- origins ----------------------------------------------------------------------------


async def test_actor_on_another_origin_than_the_signer_is_403(pair: Pair) -> None:
    activity = probe(pair.cholet)
    activity["actor"] = "https://elsewhere.example/actor"
    activity["id"] = "https://elsewhere.example/activities/1"
    response = await pair.post(activity)
    assert response.status_code == 403
    assert "signer's origin" in response.json()["error"]


async def test_activity_id_on_another_origin_than_the_actor_is_403(pair: Pair) -> None:
    activity = probe(pair.cholet)
    activity["id"] = "https://elsewhere.example/activities/2"
    response = await pair.post(activity)
    assert response.status_code == 403
    assert "actor's origin" in response.json()["error"]


async def test_pseudonym_actor_on_the_signer_origin_is_accepted(pair: Pair) -> None:
    activity = probe(pair.cholet)
    activity["actor"] = f"{pair.cholet.url}/p/{'a' * 64}"
    response = await pair.post(activity)
    assert response.status_code == 202, response.text


async def test_no_input_yields_a_500(pair: Pair) -> None:
    async with httpx.AsyncClient() as http:
        for headers in (
            {"Signature": 'keyId="x",signature="%%%"'},
            {"Signature-Input": "sig1=(", "Signature": "sig1=:AA==:"},
            {"Authorization": "Signature garbage"},
            {"Signature": 'keyId="' + "k" * 5000 + '",signature="AA=="'},
        ):
            response = await http.post(pair.inbox, content=b"{}", headers=headers)
            assert 400 <= response.status_code < 500, (headers, response.status_code)
