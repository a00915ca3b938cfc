"""Keys: fingerprints admins compare, PEM and Multikey forms, the parsed-key cache."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from hypothesis import given
from hypothesis import strategies as st

from federation._multibase import decode_base58btc, decode_multibase, encode_base58btc
from federation.keys import (
    PrivateKey,
    PublicKey,
    cached_public_key,
    ed25519_multikey,
    fingerprint,
    generate_ed25519_key,
    generate_rsa_key,
    load_private_key_pem,
    load_public_key_pem,
    parse_multikey,
    public_key_pem,
)

VECTORS = Path(__file__).parent / "vectors"


def _pem_body_fingerprint(pem: str) -> str:
    """The fingerprint computed independently: SPKI PEM bodies are the DER itself."""
    body = "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))
    digest = hashlib.sha256(base64.b64decode(body)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


@pytest.mark.parametrize("name", ["test-key-ed25519", "test-key-rsa-pss", "test-key-ecc-p256"])
def test_fingerprint_is_openssh_style_sha256_of_the_spki(name: str) -> None:
    pem = (VECTORS / "rfc9421" / f"{name}.pub.pem").read_text()
    key = load_public_key_pem(pem)
    assert fingerprint(key) == _pem_body_fingerprint(pem)
    assert fingerprint(key).startswith("SHA256:")
    assert "=" not in fingerprint(key)
    assert len(fingerprint(key)) == len("SHA256:") + 43


def test_fingerprint_does_not_depend_on_the_pem_flavour(
    rfc9421_public_key: Callable[[str], PublicKey],
    rfc9421_private_key: Callable[[str], PrivateKey],
) -> None:
    pkcs1 = rfc9421_public_key("test-key-rsa")  # published as "BEGIN RSA PUBLIC KEY"
    spki = load_public_key_pem(public_key_pem(pkcs1))
    assert fingerprint(pkcs1) == fingerprint(spki)
    assert fingerprint(rfc9421_private_key("test-key-rsa")) == fingerprint(pkcs1)


def test_fingerprints_differ_between_keys(
    node_rsa_key: rsa.RSAPrivateKey, node_ed25519_key: ed25519.Ed25519PrivateKey
) -> None:
    assert fingerprint(node_rsa_key) != fingerprint(generate_ed25519_key())
    assert fingerprint(node_ed25519_key) != fingerprint(generate_ed25519_key())


def test_public_key_pem_round_trips(node_rsa_key: rsa.RSAPrivateKey) -> None:
    pem = public_key_pem(node_rsa_key)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert fingerprint(load_public_key_pem(pem)) == fingerprint(node_rsa_key)
    assert public_key_pem(node_rsa_key.public_key()) == pem


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("not a key", "not a usable PEM public key"),
        ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "not a usable"),
        ("-----BEGIN PUBLIC KEY-----\nÄÖÜ\n-----END PUBLIC KEY-----", "non-ASCII"),
    ],
)
def test_load_public_key_pem_explains_bad_input(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        load_public_key_pem(text)


def test_load_private_key_pem_reads_pkcs1_pkcs8_and_sec1() -> None:
    for name in ("test-key-rsa", "test-key-rsa-pss", "test-key-ed25519", "test-key-ecc-p256"):
        key = load_private_key_pem((VECTORS / "rfc9421" / f"{name}.pem").read_bytes())
        public = load_public_key_pem((VECTORS / "rfc9421" / f"{name}.pub.pem").read_text())
        assert fingerprint(key) == fingerprint(public)


def test_load_private_key_pem_explains_bad_input() -> None:
    with pytest.raises(ValueError, match="not a usable PEM private key"):
        load_private_key_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")


def test_ed25519_multikey_matches_the_published_key_pair(proof_vectors: dict[str, Any]) -> None:
    pair = proof_vectors["key_pair"]
    secret = decode_multibase(pair["privateKeyMultibase"])
    assert secret[:2] == b"\x80\x26"  # multicodec ed25519-priv
    private = ed25519.Ed25519PrivateKey.from_private_bytes(secret[2:])
    assert ed25519_multikey(private.public_key()) == pair["publicKeyMultibase"]
    assert ed25519_multikey(private) == pair["publicKeyMultibase"]
    parsed = parse_multikey(pair["publicKeyMultibase"])
    assert fingerprint(parsed) == fingerprint(private)


def test_multikey_round_trips(node_ed25519_key: ed25519.Ed25519PrivateKey) -> None:
    value = ed25519_multikey(node_ed25519_key.public_key())
    assert value.startswith("z6Mk")
    assert fingerprint(parse_multikey(value)) == fingerprint(node_ed25519_key)


def test_multikey_refuses_non_ed25519_keys(node_rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(TypeError, match="Ed25519"):
        ed25519_multikey(node_rsa_key)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "starting with 'z'"),
        ("u7QE", "starting with 'z'"),
        ("z6Mk0OIl", "not in the base58btc alphabet"),
        # An X25519 Multikey (multicodec 0xec01) from the did:key examples.
        ("z6LSeu9HkTHSfLLeUs2nnzUSNedgDUevfNQgQjQC23ZCit6F", "not an Ed25519 key"),
        ("z" + encode_base58btc(b"\xed\x01" + bytes(range(1, 32))), "must be 32 bytes"),
    ],
)
def test_parse_multikey_gives_a_reason(value: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_multikey(value)


@given(st.binary(max_size=80))
def test_base58btc_round_trips_including_leading_zero_bytes(data: bytes) -> None:
    assert decode_base58btc(encode_base58btc(data)) == data


def test_base58btc_known_value() -> None:
    # The base58 alphabet's own classic example.
    assert encode_base58btc(b"Hello World!") == "2NEpo7TZRRrLZSi2U"
    assert encode_base58btc(b"\0\0\x01") == "112"


def test_cached_public_key_parses_each_pem_once() -> None:
    pem = (VECTORS / "rfc9421" / "test-key-ed25519.pub.pem").read_text()
    first = cached_public_key(pem)
    before = cached_public_key.cache_info().hits
    assert cached_public_key(pem) is first
    assert cached_public_key.cache_info().hits == before + 1
    with pytest.raises(ValueError):
        cached_public_key("garbage")


def test_generate_rsa_key_refuses_weak_sizes() -> None:
    with pytest.raises(ValueError, match="at least 2048"):
        generate_rsa_key(1024)


def test_generate_ed25519_key() -> None:
    assert isinstance(generate_ed25519_key(), ed25519.Ed25519PrivateKey)
