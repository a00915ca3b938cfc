"""verify_request: the inbox rules on top of a sound signature, one test per rule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from federation.digest import content_digest_header, digest_header
from federation.signatures import (
    SignatureError,
    format_duration,
    parse_signature,
    sign_request,
    verify_request,
)
from tests.federation.signing import BODY, KEY_ID, NOW, URL, cavage_headers, rfc9421_headers

DATE = "Sat, 01 Mar 2025 12:00:00 GMT"


def _reason(call: Callable[[], object]) -> str:
    with pytest.raises(SignatureError) as caught:
        call()
    assert caught.value.status == 401
    return caught.value.reason


def test_cavage_round_trip(node_rsa_key: rsa.RSAPrivateKey) -> None:
    headers = cavage_headers(node_rsa_key)
    parsed = verify_request(
        "POST", "/inbox", headers, BODY, public_key=node_rsa_key.public_key(), now=NOW
    )
    assert parsed.key_id == KEY_ID
    assert parsed.covered == ("(request-target)", "host", "date", "digest")


@pytest.mark.parametrize("kind", ["ed25519", "rsa"])
def test_rfc9421_round_trip(
    kind: str, node_rsa_key: rsa.RSAPrivateKey, node_ed25519_key: ed25519.Ed25519PrivateKey
) -> None:
    key = node_ed25519_key if kind == "ed25519" else node_rsa_key
    verify_request("POST", URL, rfc9421_headers(key), BODY, public_key=key.public_key(), now=NOW)


def test_a_parsed_signature_can_be_passed_in(node_rsa_key: rsa.RSAPrivateKey) -> None:
    headers = cavage_headers(node_rsa_key)
    parsed = parse_signature("POST", "/inbox", headers)
    assert (
        verify_request(
            "POST",
            "/inbox",
            headers,
            BODY,
            public_key=node_rsa_key.public_key(),
            now=NOW,
            parsed=parsed,
        )
        is parsed
    )


def test_get_without_body_needs_no_digest(node_rsa_key: rsa.RSAPrivateKey) -> None:
    headers = sign_request(
        "GET",
        "https://cholet.example/vectors",
        {},
        None,
        key_id=KEY_ID,
        private_key=node_rsa_key,
        now=NOW,
    )
    verify_request("GET", "/vectors", headers, b"", public_key=node_rsa_key.public_key(), now=NOW)


_CAVAGE_LINES = {
    "(request-target)": "(request-target): post /inbox",
    "host": "host: cholet.example",
    "date": f"date: {DATE}",
    "digest": f"digest: {digest_header(BODY)}",
}


@pytest.mark.parametrize("left_out", ["(request-target)", "host", "date", "digest"])
def test_cavage_must_cover_target_host_date_and_digest(
    left_out: str, node_rsa_key: rsa.RSAPrivateKey, cavage_by_hand: Callable[..., str]
) -> None:
    covered = [name for name in _CAVAGE_LINES if name != left_out]
    headers = {"Host": "cholet.example", "Date": DATE, "Digest": digest_header(BODY)}
    headers["Signature"] = cavage_by_hand(
        node_rsa_key, covered=covered, lines=[_CAVAGE_LINES[name] for name in covered]
    )
    reason = _reason(
        lambda: verify_request(
            "POST", "/inbox", headers, BODY, public_key=node_rsa_key.public_key(), now=NOW
        )
    )
    assert reason.startswith(f"the signature does not cover {left_out};")


def test_cavage_post_with_empty_body_still_needs_digest(
    node_rsa_key: rsa.RSAPrivateKey, cavage_by_hand: Callable[..., str]
) -> None:
    covered = ["(request-target)", "host", "date"]
    headers = {"Host": "cholet.example", "Date": DATE}
    headers["Signature"] = cavage_by_hand(
        node_rsa_key, covered=covered, lines=[_CAVAGE_LINES[name] for name in covered]
    )
    reason = _reason(
        lambda: verify_request(
            "POST", "/inbox", headers, b"", public_key=node_rsa_key.public_key(), now=NOW
        )
    )
    assert "does not cover digest" in reason


_RFC9421_COMPONENTS = {
    "@method": "POST",
    "@path": "/inbox",
    "@authority": "cholet.example",
    "date": DATE,
    "content-digest": content_digest_header(BODY),
}


@pytest.mark.parametrize(
    ("left_out", "named"),
    [
        ("@method", "@method"),
        ("@path", "@path"),
        ("@authority", "@authority"),
        ("date", "date (or a created parameter)"),
        ("content-digest", "content-digest"),
    ],
)
def test_rfc9421_must_cover_target_host_date_and_digest(
    left_out: str,
    named: str,
    node_ed25519_key: ed25519.Ed25519PrivateKey,
    rfc9421_by_hand: Callable[..., dict[str, str]],
) -> None:
    components = [(name, value) for name, value in _RFC9421_COMPONENTS.items() if name != left_out]
    headers = {
        "Host": "cholet.example",
        "Date": DATE,
        "Content-Digest": content_digest_header(BODY),
    }
    headers |= rfc9421_by_hand(node_ed25519_key, components=components, params=';keyid="k"')
    reason = _reason(
        lambda: verify_request(
            "POST", "/inbox", headers, BODY, public_key=node_ed25519_key.public_key(), now=NOW
        )
    )
    assert reason.startswith(f"the signature does not cover {named};")


def test_rfc9421_created_parameter_stands_in_for_date(
    node_ed25519_key: ed25519.Ed25519PrivateKey, rfc9421_by_hand: Callable[..., dict[str, str]]
) -> None:
    components = [(n, v) for n, v in _RFC9421_COMPONENTS.items() if n != "date"]
    created = int(NOW.timestamp())
    headers = {"Host": "cholet.example", "Content-Digest": content_digest_header(BODY)}
    headers |= rfc9421_by_hand(
        node_ed25519_key, components=components, params=f';created={created};keyid="k"'
    )
    verify_request(
        "POST", "/inbox", headers, BODY, public_key=node_ed25519_key.public_key(), now=NOW
    )
    late = NOW + timedelta(hours=3, minutes=7)
    reason = _reason(
        lambda: verify_request(
            "POST", "/inbox", headers, BODY, public_key=node_ed25519_key.public_key(), now=late
        )
    )
    assert reason == (
        "The signature's created time is 3 h 07 min behind this node's clock (allowed ±1 h); "
        "check the sender's clock (NTP)"
    )


@pytest.mark.parametrize(
    ("sender_offset", "expected"),
    [
        (
            -timedelta(hours=2, minutes=3, seconds=20),
            "Date is 2 h 03 min behind this node's clock (allowed ±1 h); "
            "check the sender's clock (NTP)",
        ),
        (
            timedelta(hours=1, seconds=1),
            "Date is 1 h 00 min 01 s ahead of this node's clock (allowed ±1 h); "
            "check the sender's clock (NTP)",
        ),
        (
            timedelta(minutes=61, seconds=30),
            "Date is 1 h 01 min ahead of this node's clock (allowed ±1 h); "
            "check the sender's clock (NTP)",
        ),
    ],
)
def test_date_outside_the_window_names_the_skew(
    sender_offset: timedelta, expected: str, node_rsa_key: rsa.RSAPrivateKey
) -> None:
    headers = cavage_headers(node_rsa_key, now=NOW + sender_offset)
    reason = _reason(
        lambda: verify_request(
            "POST", "/inbox", headers, BODY, public_key=node_rsa_key.public_key(), now=NOW
        )
    )
    assert reason == expected


def test_date_exactly_at_the_window_edge_passes(node_rsa_key: rsa.RSAPrivateKey) -> None:
    for offset in (timedelta(hours=1), -timedelta(hours=1)):
        headers = cavage_headers(node_rsa_key, now=NOW + offset)
        verify_request(
            "POST", "/inbox", headers, BODY, public_key=node_rsa_key.public_key(), now=NOW
        )


def test_window_is_configurable_in_seconds_or_as_timedelta(
    node_rsa_key: rsa.RSAPrivateKey,
) -> None:
    headers = cavage_headers(node_rsa_key, now=NOW - timedelta(minutes=10))
    verify_request(
        "POST",
        "/inbox",
        headers,
        BODY,
        public_key=node_rsa_key.public_key(),
        now=NOW,
        max_skew=900.0,
    )
    reason = _reason(
        lambda: verify_request(
            "POST",
            "/inbox",
            headers,
            BODY,
            public_key=node_rsa_key.public_key(),
            now=NOW,
            max_skew=timedelta(minutes=5),
        )
    )
    assert "10 min behind this node's clock (allowed ±5 min)" in reason


def test_unreadable_date_is_explained(
    node_rsa_key: rsa.RSAPrivateKey, cavage_by_hand: Callable[..., str]
) -> None:
    covered = ["(request-target)", "host", "date", "digest"]
    lines = [_CAVAGE_LINES[name] for name in covered]
    lines[2] = "date: yesterday"
    headers = {"Host": "cholet.example", "Date": "yesterday", "Digest": digest_header(BODY)}
    headers["Signature"] = cavage_by_hand(node_rsa_key, covered=covered, lines=lines)
    reason = _reason(
        lambda: verify_request(
            "POST", "/inbox", headers, BODY, public_key=node_rsa_key.public_key(), now=NOW
        )
    )
    assert reason == "Date header 'yesterday' is not an HTTP date"


def test_expired_rfc9421_signature_is_refused(
    node_ed25519_key: ed25519.Ed25519PrivateKey, rfc9421_by_hand: Callable[..., dict[str, str]]
) -> None:
    expires = int((NOW - timedelta(minutes=2)).timestamp())
    headers = {
        "Host": "cholet.example",
        "Date": DATE,
        "Content-Digest": content_digest_header(BODY),
    }
    headers |= rfc9421_by_hand(
        node_ed25519_key,
        components=list(_RFC9421_COMPONENTS.items()),
        params=f';expires={expires};keyid="k"',
    )
    reason = _reason(
        lambda: verify_request(
            "POST", "/inbox", headers, BODY, public_key=node_ed25519_key.public_key(), now=NOW
        )
    )
    assert reason.startswith("the signature expired 2 min ago")


def test_cavage_digest_must_match_the_received_body(node_rsa_key: rsa.RSAPrivateKey) -> None:
    headers = cavage_headers(node_rsa_key)
    reason = _reason(
        lambda: verify_request(
            "POST", "/inbox", headers, BODY + b" ", public_key=node_rsa_key.public_key(), now=NOW
        )
    )
    assert reason.startswith("Digest header (SHA-256) does not match the received body")


def test_rfc9421_content_digest_must_match_the_received_body(
    node_ed25519_key: ed25519.Ed25519PrivateKey,
) -> None:
    headers = rfc9421_headers(node_ed25519_key)
    reason = _reason(
        lambda: verify_request(
            "POST", URL, headers, BODY.upper(), public_key=node_ed25519_key.public_key(), now=NOW
        )
    )
    assert reason.startswith("Content-Digest (sha-256) does not match the received body")


def test_a_wrong_key_is_refused(
    node_rsa_key: rsa.RSAPrivateKey, node_ed25519_key: ed25519.Ed25519PrivateKey
) -> None:
    headers = cavage_headers(node_rsa_key)
    reason = _reason(
        lambda: verify_request(
            "POST", "/inbox", headers, BODY, public_key=node_ed25519_key.public_key(), now=NOW
        )
    )
    assert "needs an RSA key" in reason


def test_unknown_algorithm_malformed_and_unsigned_requests(
    node_rsa_key: rsa.RSAPrivateKey,
) -> None:
    public = node_rsa_key.public_key()
    headers = cavage_headers(node_rsa_key)
    unknown = headers | {"Signature": headers["Signature"].replace("rsa-sha256", "rsa-sha1")}
    assert "unsupported signature algorithm 'rsa-sha1'" in _reason(
        lambda: verify_request("POST", "/inbox", unknown, BODY, public_key=public, now=NOW)
    )
    malformed = headers | {"Signature": headers["Signature"].replace(",", " ", 1)}
    assert "malformed" in _reason(
        lambda: verify_request("POST", "/inbox", malformed, BODY, public_key=public, now=NOW)
    )
    unsigned = {name: value for name, value in headers.items() if name != "Signature"}
    assert (
        _reason(
            lambda: verify_request("POST", "/inbox", unsigned, BODY, public_key=public, now=NOW)
        )
        == "request is not signed"
    )


def test_naive_now_is_a_programming_error(node_rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_request(
            "POST",
            "/inbox",
            cavage_headers(node_rsa_key),
            BODY,
            public_key=node_rsa_key.public_key(),
            now=datetime(2025, 1, 1),
        )


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (timedelta(seconds=7), "7 s"),
        (timedelta(minutes=4, seconds=10), "4 min 10 s"),
        (timedelta(minutes=5), "5 min"),
        (timedelta(hours=1), "1 h"),
        (timedelta(hours=1, seconds=1), "1 h 00 min 01 s"),
        (timedelta(hours=2, minutes=3, seconds=59), "2 h 03 min"),
        (-timedelta(hours=26, minutes=30), "26 h 30 min"),
    ],
)
def test_format_duration(span: timedelta, text: str) -> None:
    assert format_duration(span) == text
