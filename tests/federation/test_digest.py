"""Body digests: known values from the specs, tolerance of lists, constant-time mismatches."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from federation.digest import (
    content_digest_header,
    content_digest_problem,
    digest_header,
    digest_header_problem,
    verify_content_digest,
    verify_digest_header,
)

HELLO = b'{"hello": "world"}'
# draft-cavage-12 §3.1 and RFC 9530 / RFC 9421 B.2 publish these for HELLO.
HELLO_SHA256 = "X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="
HELLO_SHA512 = (
    "WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew=="
)


def test_digest_header_matches_the_draft_example() -> None:
    assert digest_header(HELLO) == f"SHA-256={HELLO_SHA256}"


def test_content_digest_matches_the_rfc_examples() -> None:
    assert content_digest_header(HELLO) == f"sha-256=:{HELLO_SHA256}:"
    assert content_digest_header(HELLO, "sha-512") == f"sha-512=:{HELLO_SHA512}:"
    with pytest.raises(ValueError, match="md5"):
        content_digest_header(HELLO, "md5")


@pytest.mark.parametrize(
    "value",
    [
        f"SHA-256={HELLO_SHA256}",
        f"sha-256={HELLO_SHA256}",
        f"MD5=abc, SHA-256={HELLO_SHA256}",
        f"SHA-256={HELLO_SHA256},SHA-512={HELLO_SHA512}",
    ],
)
def test_digest_header_accepts_lists_with_sha256(value: str) -> None:
    assert verify_digest_header(value, HELLO)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (f"SHA-512={HELLO_SHA512}", "no SHA-256"),
        ("MD5=abc", "no SHA-256"),
        ("", "no SHA-256"),
        ("SHA-256=not base64!", "not valid base64"),
        ("garbage", "not of the form"),
        (f"SHA-256={HELLO_SHA256[:-2]}A=", "does not match"),
        (f"SHA-256={HELLO_SHA256},SHA-512={HELLO_SHA256}", "SHA-512) does not match"),
    ],
)
def test_digest_header_problems_are_explained(value: str, fragment: str) -> None:
    problem = digest_header_problem(value, HELLO)
    assert problem is not None and fragment in problem
    assert not verify_digest_header(value, HELLO)


@pytest.mark.parametrize(
    "value",
    [
        f"sha-256=:{HELLO_SHA256}:",
        f"sha-512=:{HELLO_SHA512}:",
        f"sha-256=:{HELLO_SHA256}:, sha-512=:{HELLO_SHA512}:",
        f"unixsum=:AAA=:, sha-512=:{HELLO_SHA512}:",
    ],
)
def test_content_digest_accepts_sha256_or_sha512(value: str) -> None:
    assert verify_content_digest(value, HELLO)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("md5=:AAA=:", "neither sha-256 nor sha-512"),
        (f"sha-256={HELLO_SHA256}", "malformed"),
        ('sha-256="abc"', "not a byte sequence"),
        (f"sha-256=:{HELLO_SHA512}:", "does not match"),
        (f"sha-256=:{HELLO_SHA256}:, sha-512=:{HELLO_SHA256}:", "sha-512) does not match"),
    ],
)
def test_content_digest_problems_are_explained(value: str, fragment: str) -> None:
    problem = content_digest_problem(value, HELLO)
    assert problem is not None and fragment in problem
    assert not verify_content_digest(value, HELLO)


@given(st.binary(max_size=2048))
def test_digests_of_any_body_verify(body: bytes) -> None:
    assert verify_digest_header(digest_header(body), body)
    assert verify_content_digest(content_digest_header(body), body)
    assert verify_content_digest(content_digest_header(body, "sha-512"), body)


@given(st.binary(min_size=1, max_size=512), st.data())
def test_any_changed_byte_breaks_the_digest(body: bytes, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(body) - 1))
    flip = data.draw(st.integers(1, 255))
    changed = body[:index] + bytes([body[index] ^ flip]) + body[index + 1 :]
    assert not verify_digest_header(digest_header(body), changed)
    assert not verify_content_digest(content_digest_header(body), changed)
