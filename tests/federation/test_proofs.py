"""FEP-8b32 / eddsa-jcs-2022 proofs: the published vectors byte for byte, and tampering."""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from federation._multibase import decode_multibase
from federation.keys import ed25519_multikey
from federation.proofs import ProofError, create_proof, verify_proof

CREATED = datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)


@pytest.fixture(scope="module")
def spec_key(proof_vectors: dict[str, Any]) -> ed25519.Ed25519PrivateKey:
    secret = decode_multibase(proof_vectors["key_pair"]["privateKeyMultibase"])
    return ed25519.Ed25519PrivateKey.from_private_bytes(secret[2:])


@pytest.mark.parametrize("vector", ["vc_di_eddsa", "fep_8b32"])
def test_published_proof_values_are_reproduced(
    vector: str, proof_vectors: dict[str, Any], spec_key: ed25519.Ed25519PrivateKey
) -> None:
    published = proof_vectors[vector]
    secured = create_proof(
        published["unsecured"], spec_key, published["verification_method"], created=CREATED
    )
    assert secured["proof"]["proofValue"] == published["proof_value"]
    assert secured["proof"]["created"] == published["created"]
    assert secured["proof"]["@context"] == published["unsecured"]["@context"]
    assert {k: v for k, v in secured.items() if k != "proof"} == published["unsecured"]


def test_vc_di_eddsa_intermediate_values(
    proof_vectors: dict[str, Any], spec_key: ed25519.Ed25519PrivateKey
) -> None:
    """The canonical forms, combined hash and raw signature the W3C spec prints."""
    published = proof_vectors["vc_di_eddsa"]
    secured = create_proof(
        published["unsecured"], spec_key, published["verification_method"], created=CREATED
    )
    config = {k: v for k, v in secured["proof"].items() if k != "proofValue"}
    assert rfc8785.dumps(published["unsecured"]).decode() == published["canonical_document"]
    assert rfc8785.dumps(config).decode() == published["canonical_proof_config"]
    combined = (
        hashlib.sha256(published["canonical_proof_config"].encode()).digest()
        + hashlib.sha256(published["canonical_document"].encode()).digest()
    )
    assert combined.hex() == published["combined_hash_hex"]
    assert decode_multibase(published["proof_value"]).hex() == published["signature_hex"]


@pytest.mark.parametrize("vector", ["vc_di_eddsa", "fep_8b32"])
def test_published_documents_verify(vector: str, proof_vectors: dict[str, Any]) -> None:
    published = proof_vectors[vector]
    document = _published_secured(published)
    unsecured = verify_proof(document, proof_vectors["key_pair"]["publicKeyMultibase"])
    assert unsecured == published["unsecured"]


def _published_secured(published: dict[str, Any]) -> dict[str, Any]:
    return {
        **copy.deepcopy(published["unsecured"]),
        "proof": {
            "@context": published["unsecured"]["@context"],
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "verificationMethod": published["verification_method"],
            "proofPurpose": "assertionMethod",
            "proofValue": published["proof_value"],
            "created": published["created"],
        },
    }


def _tamper_content(doc: dict[str, Any]) -> None:
    doc["object"]["content"] = "Hello world!"


def _tamper_number(doc: dict[str, Any]) -> None:
    doc["object"]["location"]["latitude"] = 25.273963


def _tamper_added_field(doc: dict[str, Any]) -> None:
    doc["to"] = ["https://www.w3.org/ns/activitystreams#Public"]


def _tamper_created(doc: dict[str, Any]) -> None:
    doc["proof"]["created"] = "2023-02-24T23:36:39Z"


def _tamper_method(doc: dict[str, Any]) -> None:
    doc["proof"]["verificationMethod"] = "https://server.example/users/mallory#ed25519-key"


def _tamper_signature(doc: dict[str, Any]) -> None:
    value = doc["proof"]["proofValue"]
    doc["proof"]["proofValue"] = value[:20] + ("A" if value[20] != "A" else "B") + value[21:]


@pytest.mark.parametrize(
    "tamper",
    [
        _tamper_content,
        _tamper_number,
        _tamper_added_field,
        _tamper_created,
        _tamper_method,
        _tamper_signature,
    ],
)
def test_tampered_documents_fail(tamper: Any, proof_vectors: dict[str, Any]) -> None:
    document = _published_secured(proof_vectors["fep_8b32"])
    tamper(document)
    with pytest.raises(ProofError, match="does not verify"):
        verify_proof(document, proof_vectors["key_pair"]["publicKeyMultibase"])


def test_another_key_fails(proof_vectors: dict[str, Any]) -> None:
    document = _published_secured(proof_vectors["fep_8b32"])
    with pytest.raises(ProofError, match="does not verify"):
        verify_proof(document, ed25519.Ed25519PrivateKey.generate().public_key())


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda d: d.pop("proof"), "has no proof"),
        (lambda d: d.update(proof="z123"), "must be a JSON object"),
        (lambda d: d.update(proof=[d["proof"], d["proof"]]), "exactly one proof, found 2"),
        (lambda d: d["proof"].update(type="Ed25519Signature2020"), "proof type must be"),
        (lambda d: d["proof"].update(cryptosuite="eddsa-rdfc-2022"), "cryptosuite must be"),
        (lambda d: d["proof"].update(proofPurpose="authentication"), "proofPurpose must be"),
        (lambda d: d["proof"].update(created="yesterday"), "not an XML Schema dateTimeStamp"),
        (lambda d: d["proof"].pop("proofValue"), "no proofValue"),
        (lambda d: d["proof"].update(proofValue="u1234"), "proofValue: expected base58btc"),
        (lambda d: d["proof"].update(proofValue="z1111"), "64-byte Ed25519 signature"),
        (
            lambda d: d["proof"].update({"@context": ["https://example.org/other"]}),
            "@context does not match",
        ),
    ],
)
def test_malformed_proofs_are_explained(
    change: Any, fragment: str, proof_vectors: dict[str, Any]
) -> None:
    document = _published_secured(proof_vectors["fep_8b32"])
    change(document)
    with pytest.raises(ProofError) as caught:
        verify_proof(document, proof_vectors["key_pair"]["publicKeyMultibase"])
    assert fragment in caught.value.reason


def test_a_single_proof_in_a_list_is_accepted(proof_vectors: dict[str, Any]) -> None:
    document = _published_secured(proof_vectors["fep_8b32"])
    document["proof"] = [document["proof"]]
    verify_proof(document, proof_vectors["key_pair"]["publicKeyMultibase"])


def test_a_key_of_another_type_is_a_proof_error(
    proof_vectors: dict[str, Any], node_rsa_key: Any
) -> None:
    document = _published_secured(proof_vectors["fep_8b32"])
    with pytest.raises(ProofError, match="with an Ed25519 key, not RSA-2048"):
        verify_proof(document, node_rsa_key.public_key())


def test_bad_multikey_is_a_proof_error(proof_vectors: dict[str, Any]) -> None:
    document = _published_secured(proof_vectors["fep_8b32"])
    with pytest.raises(ProofError, match="publicKeyMultibase"):
        verify_proof(document, "zNotAKey")


def test_create_proof_leaves_the_input_alone_and_refuses_double_proofs(
    node_ed25519_key: ed25519.Ed25519PrivateKey,
) -> None:
    document = {"type": "OrderedCollectionPage", "orderedItems": [{"a": 1}]}
    secured = create_proof(document, node_ed25519_key, "https://n.example/actor#ed25519-key")
    assert "proof" not in document
    assert "@context" not in secured["proof"]
    assert verify_proof(secured, node_ed25519_key.public_key()) == document
    with pytest.raises(ValueError, match="already carries a proof"):
        create_proof(secured, node_ed25519_key, "https://n.example/actor#ed25519-key")
    with pytest.raises(ValueError, match="timezone-aware"):
        create_proof(document, node_ed25519_key, "x", created=datetime(2025, 1, 1))


def test_documents_json_cannot_represent_are_refused(
    node_ed25519_key: ed25519.Ed25519PrivateKey,
) -> None:
    with pytest.raises(ValueError, match="cannot be canonicalised"):
        create_proof({"big": 2**60}, node_ed25519_key, "x")


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(max_size=10).filter(lambda k: k != "proof"), _json, max_size=6))
def test_any_json_document_round_trips(document: dict[str, Any]) -> None:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    secured = create_proof(document, key, "https://n.example/actor#ed25519-key", created=CREATED)
    assert verify_proof(secured, ed25519_multikey(key.public_key())) == document
