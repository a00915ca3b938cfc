"""Node keys: generation, PEM and Multikey forms, and the fingerprints admins compare.

Each node has an RSA key (draft-cavage HTTP signatures, what the fediverse
verifies) and an Ed25519 key (object integrity proofs, RFC 9421). Peers are
trusted by pinning a fingerprint that the two admins read to each other out of
band, so the fingerprint format follows OpenSSH's, which admins already know.
"""

from __future__ import annotations

import base64
import functools
import hashlib

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from federation._multibase import decode_multibase, encode_multibase

__all__ = [
    "ED25519_MULTICODEC",
    "MIN_RSA_BITS",
    "PrivateKey",
    "PublicKey",
    "cached_public_key",
    "ed25519_multikey",
    "fingerprint",
    "generate_ed25519_key",
    "generate_rsa_key",
    "key_id_suffix",
    "key_type_name",
    "load_private_key_pem",
    "load_public_key_pem",
    "parse_multikey",
    "public_key_pem",
    "published_key_id",
]

PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey

# Multicodec "ed25519-pub" (0xed) as an unsigned varint: 0xed 0x01.
ED25519_MULTICODEC = b"\xed\x01"

# Shorter RSA keys have been disallowed for signatures since 2014 (NIST SP 800-131A).
MIN_RSA_BITS = 2048

_PUBLIC_KEY_TYPES = (rsa.RSAPublicKey, ed25519.Ed25519PublicKey, ec.EllipticCurvePublicKey)
_PRIVATE_KEY_TYPES = (rsa.RSAPrivateKey, ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey)


def _as_public(key: PublicKey | PrivateKey) -> PublicKey:
    if isinstance(key, _PRIVATE_KEY_TYPES):
        return key.public_key()
    if isinstance(key, _PUBLIC_KEY_TYPES):
        return key
    raise TypeError(f"unsupported key type {type(key).__name__}")


def key_type_name(key: PublicKey | PrivateKey) -> str:
    """A short name for messages, e.g. 'RSA-3072' or 'Ed25519'."""
    public = _as_public(key)
    if isinstance(public, rsa.RSAPublicKey):
        return f"RSA-{public.key_size}"
    if isinstance(public, ed25519.Ed25519PublicKey):
        return "Ed25519"
    return f"EC-{public.curve.name}"


def fingerprint(public_key: PublicKey | PrivateKey) -> str:
    """OpenSSH-style 'SHA256:<unpadded base64>' of the DER SubjectPublicKeyInfo.

    Hashing the SPKI rather than the PEM text makes the fingerprint independent
    of line wrapping and of the PEM flavour (PKCS#1 or SPKI) a peer publishes.
    """
    der = _as_public(public_key).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    digest = base64.b64encode(hashlib.sha256(der).digest()).decode("ascii")
    return "SHA256:" + digest.rstrip("=")


def key_id_suffix(public_key: PublicKey | PrivateKey) -> str:
    """The first 12 hex digits of the SPKI's SHA-256, the part of a key id that names the key.

    A key id that depends on the key itself never names two keys: a rotated key gets
    a new id, and a verifier that caches keys by id cannot confuse the old key with
    the new one. 48 bits tell a node's few keys apart; trust still comes from the
    full fingerprint.
    """
    der = _as_public(public_key).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()[:12]


def published_key_id(actor_url: str, public_key: PublicKey | PrivateKey) -> str:
    """The id under which an actor publishes this key, and which signatures name.

    ``#main-key-<suffix>`` for the RSA key of HTTP signatures (``main-key`` is the name
    fediverse software looks for first), ``#ed25519-key-<suffix>`` for the Ed25519 key
    of object proofs; see :func:`key_id_suffix`.
    """
    name = (
        "ed25519-key"
        if isinstance(_as_public(public_key), ed25519.Ed25519PublicKey)
        else "main-key"
    )
    return f"{actor_url}#{name}-{key_id_suffix(public_key)}"


def public_key_pem(key: PublicKey | PrivateKey) -> str:
    """SPKI PEM of the key's public half, the form `publicKeyPem` carries."""
    return (
        _as_public(key)
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def load_public_key_pem(pem: str) -> PublicKey:
    """Parse a PEM public key (SPKI or PKCS#1 RSA); ValueError says what is wrong."""
    try:
        key = serialization.load_pem_public_key(pem.strip().encode("ascii"))
    except UnicodeEncodeError:
        raise ValueError("public key PEM contains non-ASCII characters") from None
    except (ValueError, UnsupportedAlgorithm) as error:
        raise ValueError(f"not a usable PEM public key: {error}") from None
    if not isinstance(key, _PUBLIC_KEY_TYPES):
        raise ValueError(f"unsupported public key type {type(key).__name__}")
    return key


@functools.lru_cache(maxsize=512)
def cached_public_key(pem: str) -> PublicKey:
    """load_public_key_pem with an LRU cache.

    Every inbox POST is verified against one of a handful of peer keys, and
    parsing the PEM each time costs a large share of verification throughput.
    Keys are immutable, so sharing the parsed object is safe.
    """
    return load_public_key_pem(pem)


def load_private_key_pem(data: bytes, password: bytes | None = None) -> PrivateKey:
    """Parse a PEM private key (PKCS#8, PKCS#1 or SEC1); ValueError says what is wrong."""
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except TypeError as error:
        raise ValueError(f"private key password problem: {error}") from None
    except (ValueError, UnsupportedAlgorithm) as error:
        raise ValueError(f"not a usable PEM private key: {error}") from None
    if not isinstance(key, _PRIVATE_KEY_TYPES):
        raise ValueError(f"unsupported private key type {type(key).__name__}")
    return key


def ed25519_multikey(
    public_key: ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey,
) -> str:
    """The Multikey `publicKeyMultibase` form: 'z' + base58btc(0xed01 + raw key), i.e. 'z6Mk…'."""
    public = _as_public(public_key)
    if not isinstance(public, ed25519.Ed25519PublicKey):
        raise TypeError(f"Multikey here is for Ed25519 keys, not {key_type_name(public)}")
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return encode_multibase(ED25519_MULTICODEC + raw)


def parse_multikey(value: object) -> ed25519.Ed25519PublicKey:
    """Parse an Ed25519 `publicKeyMultibase`; ValueError gives the reason it is unusable.

    Any value is accepted because it comes straight out of a peer's JSON, and a
    missing or non-string one deserves the same clear reason as a malformed one.
    """
    if not isinstance(value, str):
        raise ValueError("publicKeyMultibase must be a string")
    try:
        decoded = decode_multibase(value)
    except ValueError as error:
        raise ValueError(f"publicKeyMultibase: {error}") from None
    if decoded[:2] != ED25519_MULTICODEC:
        raise ValueError(
            f"publicKeyMultibase is not an Ed25519 key (multicodec prefix "
            f"0x{decoded[:2].hex() or 'none'}, expected 0xed01)"
        )
    raw = decoded[2:]
    if len(raw) != 32:
        raise ValueError(f"Ed25519 public key must be 32 bytes, got {len(raw)}")
    return ed25519.Ed25519PublicKey.from_public_bytes(raw)


def generate_rsa_key(bits: int = 3072) -> rsa.RSAPrivateKey:
    """A fresh RSA key for draft-cavage signatures; refuses sizes below MIN_RSA_BITS."""
    if bits < MIN_RSA_BITS:
        raise ValueError(f"RSA keys must have at least {MIN_RSA_BITS} bits, not {bits}")
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def generate_ed25519_key() -> ed25519.Ed25519PrivateKey:
    """A fresh Ed25519 key for object proofs and RFC 9421 signatures."""
    return ed25519.Ed25519PrivateKey.generate()
