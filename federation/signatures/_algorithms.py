"""The signature primitives both schemes share, and the messages for key mismatches.

Each verifier returns a bool instead of raising, so that a scheme can try more
than one algorithm for the same key (hs2019 with RSA) before reporting a single
failure to the admin.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from federation.keys import PublicKey, key_type_name
from federation.signatures._errors import SignatureError
from federation.signatures._model import ParsedSignature

# RFC 9421 §3.3.1: RSASSA-PSS with SHA-512, MGF1(SHA-512) and a 64-byte salt.
_PSS_SHA512 = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
# draft-cavage hs2019 leaves the salt length open, so accept whatever was used.
_PSS_SHA512_ANY_SALT = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=padding.PSS.AUTO)


def verify_rsa_pkcs1v15_sha256(key: rsa.RSAPublicKey, signature: bytes, data: bytes) -> bool:
    try:
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def verify_rsa_pss_sha512(
    key: rsa.RSAPublicKey, signature: bytes, data: bytes, *, any_salt: bool = False
) -> bool:
    try:
        key.verify(
            signature, data, _PSS_SHA512_ANY_SALT if any_salt else _PSS_SHA512, hashes.SHA512()
        )
    except InvalidSignature:
        return False
    return True


def verify_ed25519(key: ed25519.Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def verify_ecdsa_p256_sha256(key: ec.EllipticCurvePublicKey, signature: bytes, data: bytes) -> bool:
    """RFC 9421 §3.3.4: the signature is r‖s, 32 bytes each, not DER."""
    if not isinstance(key.curve, ec.SECP256R1) or len(signature) != 64:
        return False
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    try:
        key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def sign_rsa_pkcs1v15_sha256(key: rsa.RSAPrivateKey, data: bytes) -> bytes:
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def sign_rsa_pss_sha512(key: rsa.RSAPrivateKey, data: bytes) -> bytes:
    return key.sign(data, _PSS_SHA512, hashes.SHA512())


def sign_ed25519(key: ed25519.Ed25519PrivateKey, data: bytes) -> bytes:
    return key.sign(data)


def require_rsa(public_key: PublicKey, parsed: ParsedSignature) -> rsa.RSAPublicKey:
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise key_mismatch(parsed, public_key, "an RSA key")
    return public_key


def require_ed25519(public_key: PublicKey, parsed: ParsedSignature) -> ed25519.Ed25519PublicKey:
    if not isinstance(public_key, ed25519.Ed25519PublicKey):
        raise key_mismatch(parsed, public_key, "an Ed25519 key")
    return public_key


def require_p256(public_key: PublicKey, parsed: ParsedSignature) -> ec.EllipticCurvePublicKey:
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
        public_key.curve, ec.SECP256R1
    ):
        raise key_mismatch(parsed, public_key, "a P-256 key")
    return public_key


def key_mismatch(parsed: ParsedSignature, public_key: PublicKey, needed: str) -> SignatureError:
    return SignatureError(
        f"algorithm {parsed.algorithm!r} needs {needed}, but the key for keyId "
        f"{parsed.key_id!r} is {key_type_name(public_key)}"
    )


def signature_mismatch(parsed: ParsedSignature, tried: str) -> SignatureError:
    return SignatureError(
        f"signature does not verify with the key for keyId {parsed.key_id!r} ({tried}); "
        "the signed headers were changed on the way, or the request was signed with "
        "another key than the one configured for this peer"
    )
