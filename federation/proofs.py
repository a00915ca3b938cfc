"""Object integrity proofs (FEP-8b32) with the eddsa-jcs-2022 cryptosuite.

An HTTP signature proves who sent a request, but it is gone once the request
is handled. Batches of interest vectors carry a Data Integrity proof instead,
so a stored page can still be checked later against the peer's Ed25519 key.

The algorithm is W3C "Data Integrity EdDSA Cryptosuites v1.0", eddsa-jcs-2022:
JCS (RFC 8785) canonicalisation, SHA-256, Ed25519 over
sha256(JCS(proof configuration)) ‖ sha256(JCS(document without proof)).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from federation._multibase import decode_multibase, encode_multibase
from federation.keys import key_type_name, parse_multikey

__all__ = [
    "CRYPTOSUITE",
    "PROOF_TYPE",
    "ProofError",
    "create_proof",
    "verify_proof",
]

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"

# Any JSON object: a plain dict, or one of the activity TypedDicts of federation.vocabulary.
DocumentT = TypeVar("DocumentT", bound=Mapping[str, object])

# XML Schema dateTimeStamp as Data Integrity requires for `created` (offset mandatory).
_DATE_TIME_STAMP = re.compile(r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


class ProofError(Exception):
    """A document whose integrity proof is missing, malformed or does not verify."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_SAFE_INTEGER = 2**53 - 1


def _plain(value: object) -> bool:
    """Whether compact JSON with sorted keys is already the JCS form of ``value``: no
    floats (JCS writes them as ECMAScript does), integers in JCS's domain, and ASCII
    keys (whose code-point order is JCS's UTF-16 order). Strings escape alike."""
    stack = [value]
    while stack:
        item = stack.pop()
        if item is None or isinstance(item, (str, bool)):
            continue
        if isinstance(item, int):
            if -_SAFE_INTEGER <= item <= _SAFE_INTEGER:
                continue
            return False
        if isinstance(item, dict):
            if not all(isinstance(key, str) and key.isascii() for key in item):
                return False
            stack.extend(item.values())
            continue
        if isinstance(item, list):
            stack.extend(item)
            continue
        return False
    return True


def _canonical(value: Mapping[str, Any], what: str) -> bytes:
    # Values stay Any: only rfc8785 decides, at runtime, what JSON it can canonicalise.
    # Vector pages are tens of thousands of plain values, for which the C encoder
    # gives the same bytes many times faster.
    try:
        if _plain(value):
            return json.dumps(
                value, sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ).encode("utf-8")
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as error:
        raise ProofError(f"{what} cannot be canonicalised with JCS: {error}") from None


def _hash_data(proof_config: Mapping[str, object], unsecured: Mapping[str, object]) -> bytes:
    """The eddsa-jcs-2022 hashData: proof configuration hash first, then document hash."""
    return (
        hashlib.sha256(_canonical(proof_config, "proof configuration")).digest()
        + hashlib.sha256(_canonical(unsecured, "document")).digest()
    )


def _timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("created must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def create_proof(
    document: DocumentT,
    private_key: Ed25519PrivateKey,
    verification_method: str,
    *,
    created: datetime | None = None,
    proof_purpose: str = "assertionMethod",
) -> DocumentT:
    """A copy of `document` with an eddsa-jcs-2022 `proof` added.

    The proof configuration repeats the document's `@context`, as the
    cryptosuite requires, so the context is bound by the signature too. The copy
    has the caller's type, so a typed activity stays typed once signed.
    """
    if "proof" in document:
        raise ValueError("document already carries a proof")
    if not isinstance(private_key, Ed25519PrivateKey):
        raise TypeError("eddsa-jcs-2022 proofs need an Ed25519 private key")
    proof_config: dict[str, object] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
        "created": _timestamp(created if created is not None else datetime.now(UTC)),
    }
    if "@context" in document:
        proof_config["@context"] = copy.deepcopy(document["@context"])
    try:
        signature = private_key.sign(_hash_data(proof_config, document))
    except ProofError as error:
        raise ValueError(error.reason) from None
    secured = copy.deepcopy(document)
    # A generic function may not set a key on a TypedDict that need not declare it;
    # every activity type that carries a proof declares ``proof``, and the copy is
    # the caller's own dict type, so setting it through a mutable view is sound.
    cast(MutableMapping[str, object], secured)["proof"] = {
        **proof_config,
        "proofValue": encode_multibase(signature),
    }
    return secured


def _single_proof(document: dict[str, Any]) -> dict[str, Any]:
    proof = document.get("proof")
    if isinstance(proof, list):
        if len(proof) != 1:
            raise ProofError(f"expected exactly one proof, found {len(proof)}")
        proof = proof[0]
    if proof is None:
        raise ProofError("document has no proof")
    if not isinstance(proof, dict):
        raise ProofError("proof must be a JSON object")
    return proof


def _check_proof_options(
    proof: dict[str, Any], document: dict[str, Any], expected_purpose: str
) -> None:
    if proof.get("type") != PROOF_TYPE:
        raise ProofError(f"proof type must be {PROOF_TYPE}, got {proof.get('type')!r}")
    if proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(f"cryptosuite must be {CRYPTOSUITE}, got {proof.get('cryptosuite')!r}")
    if proof.get("proofPurpose") != expected_purpose:
        raise ProofError(
            f"proofPurpose must be {expected_purpose}, got {proof.get('proofPurpose')!r}"
        )
    created = proof.get("created")
    if created is not None and (
        not isinstance(created, str) or not _DATE_TIME_STAMP.fullmatch(created)
    ):
        raise ProofError(f"proof created {created!r} is not an XML Schema dateTimeStamp")
    if "@context" in proof:
        # The proof's context must be the leading part of the document's, in order.
        proof_context = proof["@context"]
        document_context = document.get("@context")
        proof_list = proof_context if isinstance(proof_context, list) else [proof_context]
        document_list = (
            document_context if isinstance(document_context, list) else [document_context]
        )
        if document_list[: len(proof_list)] != proof_list:
            raise ProofError("the proof's @context does not match the document's @context")


def verify_proof(
    document: object,
    public_key: Ed25519PublicKey | str,
    *,
    expected_purpose: str = "assertionMethod",
    copy_result: bool = True,
) -> dict[str, Any]:
    """Verify the document's eddsa-jcs-2022 proof and return the document without it.

    ``copy_result=False`` returns it sharing its values with ``document`` (for a
    caller that only reads it, such as a resync walking tens of thousands of items).

    `public_key` is the signer's Ed25519 key, or its `publicKeyMultibase`.
    `document` may be anything a peer sent, so that a non-object gets a reason too.
    Raises ProofError with the reason when the proof is absent, malformed or
    does not match the document.
    """
    if isinstance(public_key, str):
        try:
            public_key = parse_multikey(public_key)
        except ValueError as error:
            raise ProofError(str(error)) from None
    if not isinstance(public_key, Ed25519PublicKey):
        raise ProofError(
            "eddsa-jcs-2022 proofs are checked with an Ed25519 key, "
            f"not {key_type_name(public_key)}"
        )
    if not isinstance(document, dict):
        raise ProofError("document must be a JSON object")
    proof = _single_proof(document)
    _check_proof_options(proof, document, expected_purpose)
    proof_value = proof.get("proofValue")
    if not isinstance(proof_value, str):
        raise ProofError("proof has no proofValue")
    try:
        signature = decode_multibase(proof_value)
    except ValueError as error:
        raise ProofError(f"proofValue: {error}") from None
    if len(signature) != 64:
        raise ProofError(f"proofValue must hold a 64-byte Ed25519 signature, not {len(signature)}")
    unsecured = {name: value for name, value in document.items() if name != "proof"}
    proof_config = {name: value for name, value in proof.items() if name != "proofValue"}
    try:
        public_key.verify(signature, _hash_data(proof_config, unsecured))
        return copy.deepcopy(unsecured) if copy_result else unsecured
    except InvalidSignature:
        raise ProofError(
            "proof does not verify: the document was changed after signing, or it was "
            "signed with another key"
        ) from None
    except RecursionError:
        # Decoders bound the depth first (federation.json_limits); a document built
        # in memory may not have passed one, and must still get a reason, not a crash.
        raise ProofError("document is nested too deeply to be verified") from None
