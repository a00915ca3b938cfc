"""verify_request on arbitrary bodies and signatures: every changed byte is caught."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from federation.signatures import (
    SignatureError,
    verify_request,
)
from tests.federation.signing import BODY, NOW, URL, cavage_headers, rfc9421_headers

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
        cavage_headers(node_rsa_key, body),
        body,
        public_key=node_rsa_key.public_key(),
        now=NOW,
    )
    verify_request(
        "POST",
        URL,
        rfc9421_headers(node_ed25519_key, body),
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
            rfc9421_headers(node_ed25519_key, body),
            changed,
            public_key=node_ed25519_key.public_key(),
            now=NOW,
        )
    with pytest.raises(SignatureError, match="does not match the received body"):
        verify_request(
            "POST",
            "/inbox",
            cavage_headers(node_rsa_key, body),
            changed,
            public_key=node_rsa_key.public_key(),
            now=NOW,
        )


@_slow
@given(data=st.data())
def test_any_changed_signature_byte_is_refused(
    data: st.DataObject, node_ed25519_key: ed25519.Ed25519PrivateKey
) -> None:
    headers = rfc9421_headers(node_ed25519_key)
    label, _, value = headers["Signature"].partition("=")
    raw = bytearray(base64.b64decode(value.strip(":")))
    raw[data.draw(st.integers(0, len(raw) - 1))] ^= data.draw(st.integers(1, 255))
    headers["Signature"] = f"{label}=:{base64.b64encode(raw).decode()}:"
    with pytest.raises(SignatureError, match="does not verify"):
        verify_request(
            "POST", URL, headers, BODY, public_key=node_ed25519_key.public_key(), now=NOW
        )
