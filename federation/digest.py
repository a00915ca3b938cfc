"""Body digests: `Digest` (RFC 3230, draft-cavage) and `Content-Digest` (RFC 9530, RFC 9421).

A signature only covers the body through its digest header, so the receiver
must recompute the digest over the bytes it actually received. Comparisons run
in constant time so that a forger learns nothing from response timing.

The `*_problem` functions return a human-readable reason (or None when the
digest is good), because "digest mismatch" alone does not tell an admin whether
the header was malformed, used an algorithm we do not check, or disagreed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from federation._sfv import Item, StructuredFieldError, parse_dictionary

__all__ = [
    "content_digest_header",
    "content_digest_problem",
    "digest_header",
    "digest_header_problem",
    "verify_content_digest",
    "verify_digest_header",
]

# Structured-field / RFC 3230 algorithm name (lower case) -> hashlib name.
_HASHES: dict[str, str] = {"sha-256": "sha256", "sha-512": "sha512"}


def _hash(algorithm: str, body: bytes) -> bytes:
    return hashlib.new(_HASHES[algorithm], body).digest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def digest_header(body: bytes) -> str:
    """`Digest` value as draft-cavage senders write it: 'SHA-256=<base64>'."""
    return "SHA-256=" + _b64(hashlib.sha256(body).digest())


def content_digest_header(body: bytes, algorithm: str = "sha-256") -> str:
    """`Content-Digest` value (RFC 9530): 'sha-256=:<base64>:' (or sha-512)."""
    if algorithm not in _HASHES:
        raise ValueError(f"unsupported Content-Digest algorithm {algorithm!r}")
    return f"{algorithm}=:{_b64(_hash(algorithm, body))}:"


def digest_header_problem(value: str, body: bytes) -> str | None:
    """Why a `Digest` header does not vouch for `body`, or None when it does.

    Every listed algorithm we know (SHA-256, SHA-512) must match; others are
    ignored, as RFC 3230 allows; SHA-256 must be among them.
    """
    seen: set[str] = set()
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, encoded = part.partition("=")
        if not sep:
            return f"Digest header entry {part[:40]!r} is not of the form ALGORITHM=VALUE"
        algorithm = name.strip().lower()
        if algorithm not in _HASHES:
            continue
        try:
            claimed = base64.b64decode(encoded.strip(), validate=True)
        except binascii.Error:
            return f"Digest header {name.strip()} value is not valid base64"
        expected = _hash(algorithm, body)
        if not hmac.compare_digest(claimed, expected):
            return (
                f"Digest header ({name.strip()}) does not match the received body; "
                "the body was changed on the way or the sender hashed different bytes"
            )
        seen.add(algorithm)
    if "sha-256" not in seen:
        return "Digest header has no SHA-256 value; this node requires SHA-256"
    return None


def content_digest_problem(value: str, body: bytes) -> str | None:
    """Why a `Content-Digest` header does not vouch for `body`, or None when it does.

    Every listed sha-256 / sha-512 entry must match and at least one must be
    present; other algorithms are ignored.
    """
    try:
        members = parse_dictionary(value)
    except StructuredFieldError as error:
        return f"Content-Digest header is malformed: {error}"
    seen = False
    for algorithm, member in members.items():
        if algorithm not in _HASHES:
            continue
        if not isinstance(member, Item) or not isinstance(member.value, bytes):
            return f"Content-Digest {algorithm} value is not a byte sequence (:base64:)"
        expected = _hash(algorithm, body)
        if not hmac.compare_digest(member.value, expected):
            return (
                f"Content-Digest ({algorithm}) does not match the received body; "
                "the body was changed on the way or the sender hashed different bytes"
            )
        seen = True
    if not seen:
        return "Content-Digest header has neither sha-256 nor sha-512; this node requires one"
    return None


def verify_digest_header(value: str, body: bytes) -> bool:
    """True when the `Digest` header holds a matching SHA-256 (see digest_header_problem)."""
    return digest_header_problem(value, body) is None


def verify_content_digest(value: str, body: bytes) -> bool:
    """True when `Content-Digest` holds a matching sha-256 or sha-512."""
    return content_digest_problem(value, body) is None
