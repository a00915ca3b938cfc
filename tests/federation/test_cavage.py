"""draft-cavage-12: Appendix C vectors, the fediverse's hs2019 variants, signing, parse errors."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from federation.keys import PrivateKey, PublicKey
from federation.signatures import (
    SignatureError,
    parse_signature,
    sign_request,
    verify_signature,
)

IMF_FIXDATE = re.compile(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT")


def _request(vectors: dict[str, Any], header: str, value: str) -> tuple[str, str, dict[str, str]]:
    request = vectors["request"]
    headers = dict(request["headers"])
    headers[header] = value
    return request["method"], request["target"], headers


def _examples(vectors: dict[str, Any]) -> list[dict[str, Any]]:
    examples: list[dict[str, Any]] = vectors["examples"]
    return examples


@pytest.fixture(params=range(4), ids=["C.1-Signature", "C.1-Authorization", "C.2", "C.3"])
def example(request: pytest.FixtureRequest, cavage_vectors: dict[str, Any]) -> dict[str, Any]:
    example: dict[str, Any] = _examples(cavage_vectors)[request.param]
    return example


def test_appendix_c_examples_verify(
    example: dict[str, Any], cavage_vectors: dict[str, Any], cavage_public_key: PublicKey
) -> None:
    parsed = parse_signature(*_request(cavage_vectors, example["header"], example["value"]))
    assert parsed.scheme == "cavage"
    assert parsed.key_id == "Test"
    assert parsed.algorithm == "rsa-sha256"
    assert parsed.signature_base.decode() == "\n".join(example["signing_string"])
    verify_signature(parsed, cavage_public_key)


def test_appendix_c_signatures_are_reproduced_byte_for_byte(
    example: dict[str, Any], cavage_vectors: dict[str, Any], cavage_private_key: PrivateKey
) -> None:
    """rsa-sha256 is PKCS#1 v1.5, deterministic: signing the string again gives the same bytes."""
    assert isinstance(cavage_private_key, rsa.RSAPrivateKey)
    parsed = parse_signature(*_request(cavage_vectors, example["header"], example["value"]))
    signature = cavage_private_key.sign(parsed.signature_base, padding.PKCS1v15(), hashes.SHA256())
    assert base64.b64encode(signature).decode() == example["signature"]


def test_appendix_c_fails_when_a_signed_header_changes(
    example: dict[str, Any], cavage_vectors: dict[str, Any], cavage_public_key: PublicKey
) -> None:
    method, target, headers = _request(cavage_vectors, example["header"], example["value"])
    headers["Date"] = headers["Date"].replace("21:31:40", "21:31:41")
    parsed = parse_signature(method, target, headers)
    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(parsed, cavage_public_key)


def test_appendix_c_fails_when_the_target_changes(
    cavage_vectors: dict[str, Any], cavage_public_key: PublicKey
) -> None:
    example = _examples(cavage_vectors)[2]
    _, target, headers = _request(cavage_vectors, example["header"], example["value"])
    parsed = parse_signature("POST", target.replace("dog", "cat"), headers)
    with pytest.raises(SignatureError):
        verify_signature(parsed, cavage_public_key)


def test_appendix_c_fails_when_one_signature_byte_changes(
    example: dict[str, Any], cavage_vectors: dict[str, Any], cavage_public_key: PublicKey
) -> None:
    raw = bytearray(base64.b64decode(example["signature"]))
    raw[len(raw) // 2] ^= 0x01
    value = example["value"].replace(example["signature"], base64.b64encode(raw).decode())
    parsed = parse_signature(*_request(cavage_vectors, example["header"], value))
    with pytest.raises(SignatureError, match="does not verify") as caught:
        verify_signature(parsed, cavage_public_key)
    assert caught.value.status == 401


def test_c3_as_printed_is_refused_because_rsa_sha256_cannot_sign_created(
    cavage_vectors: dict[str, Any],
) -> None:
    printed = cavage_vectors["c3_as_printed"]
    with pytest.raises(SignatureError, match=r"\(created\) cannot be signed"):
        parse_signature(*_request(cavage_vectors, printed["header"], printed["value"]))


def _signed_by_hand(
    key: Any, lines: list[str], algorithm: str, covered: str, sign: Callable[[bytes], bytes]
) -> dict[str, str]:
    signature = base64.b64encode(sign("\n".join(lines).encode())).decode()
    return {
        "Host": "peer.example",
        "Date": "Tue, 07 Jun 2014 20:51:35 GMT",
        "Signature": f'keyId="k",algorithm="{algorithm}",headers="{covered}",'
        f'signature="{signature}"',
    }


_LINES = [
    "(request-target): get /vectors?page=2",
    "host: peer.example",
    "date: Tue, 07 Jun 2014 20:51:35 GMT",
]
_COVERED = "(request-target) host date"


def test_hs2019_with_rsa_pkcs1v15_as_the_fediverse_sends_it(
    node_rsa_key: rsa.RSAPrivateKey,
) -> None:
    headers = _signed_by_hand(
        node_rsa_key,
        _LINES,
        "hs2019",
        _COVERED,
        lambda data: node_rsa_key.sign(data, padding.PKCS1v15(), hashes.SHA256()),
    )
    parsed = parse_signature("GET", "/vectors?page=2", headers)
    assert parsed.algorithm == "hs2019"
    verify_signature(parsed, node_rsa_key.public_key())


def test_hs2019_with_rsa_pss_sha512(node_rsa_key: rsa.RSAPrivateKey) -> None:
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=padding.PSS.DIGEST_LENGTH)
    headers = _signed_by_hand(
        node_rsa_key,
        _LINES,
        "hs2019",
        _COVERED,
        lambda data: node_rsa_key.sign(data, pss, hashes.SHA512()),
    )
    verify_signature(parse_signature("GET", "/vectors?page=2", headers), node_rsa_key.public_key())


def test_hs2019_with_ed25519(node_ed25519_key: ed25519.Ed25519PrivateKey) -> None:
    lines = ["(request-target): get /vectors?page=2", "(created): 1402170695", "host: peer.example"]
    headers = _signed_by_hand(
        node_ed25519_key, lines, "hs2019", "(request-target) (created) host", node_ed25519_key.sign
    )
    headers["Signature"] = headers["Signature"].replace(",headers=", ",created=1402170695,headers=")
    parsed = parse_signature("GET", "/vectors?page=2", headers)
    assert parsed.created == datetime(2014, 6, 7, 19, 51, 35, tzinfo=UTC)
    verify_signature(parsed, node_ed25519_key.public_key())
    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(parsed, ed25519.Ed25519PrivateKey.generate().public_key())


def test_algorithm_and_key_type_must_agree(
    node_rsa_key: rsa.RSAPrivateKey, node_ed25519_key: ed25519.Ed25519PrivateKey
) -> None:
    headers = _signed_by_hand(
        node_rsa_key,
        _LINES,
        "rsa-sha256",
        _COVERED,
        lambda data: node_rsa_key.sign(data, padding.PKCS1v15(), hashes.SHA256()),
    )
    parsed = parse_signature("GET", "/vectors?page=2", headers)
    with pytest.raises(
        SignatureError, match="needs an RSA key, but the key for keyId 'k' is Ed25519"
    ):
        verify_signature(parsed, node_ed25519_key.public_key())


@pytest.mark.parametrize(
    ("signature", "fragment"),
    [
        (
            'keyId="k",algorithm="hmac-sha256",signature="AAAA"',
            "unsupported signature algorithm 'hmac-sha256'",
        ),
        ('keyId="k",algorithm="rsa-sha1",signature="AAAA"', "'rsa-sha1' (SHA-1"),
        ('keyId="k",algorithm="made-up",signature="AAAA"', "'made-up' (unknown algorithm)"),
        ('keyId="k",signature="AAAA",keyId="j"', "repeats the 'keyid' parameter"),
        ('keyId="k" signature="AAAA"', "malformed near"),
        ('keyId="k",signature="AAAA', "malformed"),
        ('algorithm="rsa-sha256",signature="AAAA"', "no keyId"),
        ('keyId="k",algorithm="rsa-sha256"', "no signature parameter"),
        ('keyId="k",signature="not base64!"', "not base64"),
        ('keyId="k",headers="",signature="AAAA"', "headers parameter is empty"),
        ('keyId="k",headers="date x-missing",signature="AAAA"', "'x-missing' is missing"),
        ('keyId="k",headers="(nonsense)",signature="AAAA"', "unknown pseudo-header"),
        (
            'keyId="k",algorithm="hs2019",headers="(created)",signature="AAAA"',
            "created parameter is missing",
        ),
        ('keyId="k",created=soon,headers="date",signature="AAAA"', "not an integer"),
    ],
)
def test_malformed_signature_headers_are_explained(signature: str, fragment: str) -> None:
    headers = {
        "Host": "peer.example",
        "Date": "Tue, 07 Jun 2014 20:51:35 GMT",
        "Signature": signature,
    }
    with pytest.raises(SignatureError) as caught:
        parse_signature("POST", "/inbox", headers)
    assert fragment in caught.value.reason
    assert caught.value.status == 401


@pytest.mark.parametrize(
    ("key_id", "read"),
    [
        (r"k", "k"),
        (r"https://peer.example/actor#main-key", "https://peer.example/actor#main-key"),
        (r"a\"quoted\" key", 'a"quoted" key'),
        (r"back\\slash", "back\\slash"),
        (r"\k\e\y", "key"),
    ],
)
def test_quoted_parameter_values_are_unescaped(key_id: str, read: str) -> None:
    headers = {
        "Host": "peer.example",
        "Date": "Tue, 07 Jun 2014 20:51:35 GMT",
        "Signature": f'keyId="{key_id}", algorithm="rsa-sha256",signature="AAAA"',
    }
    assert parse_signature("POST", "/inbox", headers).key_id == read


def test_unsigned_requests_are_named_as_such() -> None:
    with pytest.raises(SignatureError, match="request is not signed"):
        parse_signature("POST", "/inbox", {"Host": "peer.example", "Authorization": "Bearer x"})


def test_header_names_are_case_insensitive_and_repeats_are_joined(
    node_rsa_key: rsa.RSAPrivateKey, header_lines: Any
) -> None:
    # draft-cavage-12 §2.3: repeated fields joined with ", "; an empty value leaves "name: ".
    lines = ["(request-target): get /", "cache-control: max-age=60, must-revalidate", "x-empty: "]
    signature = base64.b64encode(
        node_rsa_key.sign("\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())
    ).decode()
    headers = header_lines(
        [
            ("cache-control", "max-age=60"),
            ("Cache-Control", " must-revalidate "),
            ("X-Empty", ""),
            (
                "SIGNATURE",
                'keyId="k",headers="(request-target) cache-control x-empty",'
                f'signature="{signature}"',
            ),
        ]
    )
    parsed = parse_signature("GET", "/", headers)
    assert parsed.signature_base.decode() == "\n".join(lines)
    verify_signature(parsed, node_rsa_key.public_key())


def test_sign_request_sets_host_date_digest_and_signature(node_rsa_key: rsa.RSAPrivateKey) -> None:
    now = datetime(2025, 3, 1, 12, 0, 5, tzinfo=UTC)
    signed = sign_request(
        "POST",
        "https://cholet.example:8443/inbox",
        {"host": "stale", "Content-Type": "application/activity+json"},
        b'{"type": "Follow"}',
        key_id="https://oldenburg.example/actor#main-key",
        private_key=node_rsa_key,
        now=now,
    )
    assert signed["Host"] == "cholet.example:8443"
    assert "host" not in signed
    assert signed["Date"] == "Sat, 01 Mar 2025 12:00:05 GMT"
    assert IMF_FIXDATE.fullmatch(signed["Date"])
    assert signed["Digest"].startswith("SHA-256=")
    assert signed["Content-Type"] == "application/activity+json"
    assert 'algorithm="rsa-sha256"' in signed["Signature"]
    assert 'headers="(request-target) host date digest"' in signed["Signature"]
    parsed = parse_signature("POST", "/inbox", signed)
    assert parsed.signature_base.decode().splitlines()[0] == "(request-target): post /inbox"
    verify_signature(parsed, node_rsa_key.public_key())


def test_sign_request_without_body_covers_no_digest(node_rsa_key: rsa.RSAPrivateKey) -> None:
    signed = sign_request(
        "GET",
        "https://cholet.example/vectors?cursor=abc",
        {},
        None,
        key_id="https://oldenburg.example/actor#main-key",
        private_key=node_rsa_key,
    )
    assert "Digest" not in signed
    assert 'headers="(request-target) host date"' in signed["Signature"]
    parsed = parse_signature("GET", "/vectors?cursor=abc", signed)
    assert parsed.signature_base.decode().startswith(
        "(request-target): get /vectors?cursor=abc\nhost: cholet.example\n"
    )


def test_sign_request_signs_each_attempt_afresh(node_rsa_key: rsa.RSAPrivateKey) -> None:
    first = sign_request(
        "POST",
        "https://cholet.example/inbox",
        {},
        b"{}",
        key_id="k",
        private_key=node_rsa_key,
        now=datetime(2025, 1, 1, tzinfo=UTC),
    )
    second = sign_request(
        "POST",
        "https://cholet.example/inbox",
        {},
        b"{}",
        key_id="k",
        private_key=node_rsa_key,
        now=datetime(2025, 1, 2, tzinfo=UTC),
    )
    assert first["Date"] != second["Date"]
    assert first["Signature"] != second["Signature"]


def test_sign_request_needs_an_rsa_key(node_ed25519_key: ed25519.Ed25519PrivateKey) -> None:
    with pytest.raises(TypeError, match="needs an RSA key"):
        sign_request(
            "POST", "https://x.example/inbox", {}, b"", key_id="k", private_key=node_ed25519_key
        )


def test_sign_request_refuses_a_relative_url(node_rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ValueError, match="absolute"):
        sign_request("POST", "inbox", {}, b"", key_id="k", private_key=node_rsa_key)
