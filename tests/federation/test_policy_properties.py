"""verify_request on arbitrary bodies and signatures: every changed byte is caught."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from federation.signatures import (
    SignatureError,
    sign_request,
    sign_request_rfc9421,
    verify_request,
)

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
URL = "https://cholet.example/inbox"
BODY = b'{"type": "Follow", "id": "https://oldenburg.example/a/1"}'
KEY_ID = "https://oldenburg.example/actor#main-key"


def _cavage(key: rsa.RSAPrivateKey, body: bytes = BODY, now: datetime = NOW) -> dict[str, str]:
    return sign_request("POST", URL, {}, body, key_id=KEY_ID, private_key=key, now=now)


def _rfc9421(key: Any, body: bytes = BODY, now: datetime = NOW) -> dict[str, str]:
    return sign_request_rfc9421("POST", URL, {}, body, key_id=KEY_ID, private_key=key, now=now)


_slow = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_slow
@given(body=st.binary(max_size=4096))
def test_any_body_round_trips_with_both_schemes(
    body: bytes, node_rsa_key: rsa.RSAPrivateKey, node_ed25519_key: ed25519.Ed25519PrivateKey
) -> None:
    verify_request(
        "POST",
        "/inbox",
        _cavage(node_rsa_key, body),
        body,
        public_key=node_rsa_key.public_key(),
        now=NOW,
    )
    verify_request(
        "POST",
        URL,
        _rfc9421(node_ed25519_key, body),
        body,
        public_key=node_ed25519_key.public_key(),
        now=NOW,
    )


@_slow
@given(body=st.binary(min_size=1, max_size=1024), data=st.data())
def test_any_changed_body_byte_is_refused(
    body: bytes,
    data: st.DataObject,
    node_ed25519_key: ed25519.Ed25519PrivateKey,
    node_rsa_key: rsa.RSAPrivateKey,
) -> None:
    index = data.draw(st.integers(0, len(body) - 1))
    changed = (
        body[:index] + bytes([body[index] ^ data.draw(st.integers(1, 255))]) + body[index + 1 :]
    )
    with pytest.raises(SignatureError, match="does not match the received body"):
        verify_request(
            "POST",
            URL,
            _rfc9421(node_ed25519_key, body),
            changed,
            public_key=node_ed25519_key.public_key(),
            now=NOW,
        )
    with pytest.raises(SignatureError, match="does not match the received body"):
        verify_request(
            "POST",
            "/inbox",
            _cavage(node_rsa_key, body),
            changed,
            public_key=node_rsa_key.public_key(),
            now=NOW,
        )


@_slow
@given(data=st.data())
def test_any_changed_signature_byte_is_refused(
    data: st.DataObject, node_ed25519_key: ed25519.Ed25519PrivateKey
) -> None:
    headers = _rfc9421(node_ed25519_key)
    label, _, value = headers["Signature"].partition("=")
    raw = bytearray(base64.b64decode(value.strip(":")))
    raw[data.draw(st.integers(0, len(raw) - 1))] ^= data.draw(st.integers(1, 255))
    headers["Signature"] = f"{label}=:{base64.b64encode(raw).decode()}:"
    with pytest.raises(SignatureError, match="does not verify"):
        verify_request(
            "POST", URL, headers, BODY, public_key=node_ed25519_key.public_key(), now=NOW
        )
