"""One signed request shared by the policy tests: a Follow from Oldenburg to Cholet's
inbox, signed at a fixed moment with either scheme."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from federation.signatures import sign_request, sign_request_rfc9421

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
URL = "https://cholet.example/inbox"
BODY = b'{"type": "Follow", "id": "https://oldenburg.example/a/1"}'
KEY_ID = "https://oldenburg.example/actor#main-key"


def cavage_headers(
    key: rsa.RSAPrivateKey, body: bytes = BODY, now: datetime = NOW
) -> dict[str, str]:
    return sign_request("POST", URL, {}, body, key_id=KEY_ID, private_key=key, now=now)


def rfc9421_headers(key: Any, body: bytes = BODY, now: datetime = NOW) -> dict[str, str]:
    return sign_request_rfc9421("POST", URL, {}, body, key_id=KEY_ID, private_key=key, now=now)
