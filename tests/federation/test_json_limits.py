"""Depth-bounded decoding: counted on the raw text, before anything recurses."""

from __future__ import annotations

import json

import pytest

from federation.json_limits import MAX_DEPTH, JsonRefused, depth_exceeds, loads
from federation.keys import generate_ed25519_key
from federation.proofs import ProofError, create_proof, verify_proof


def _nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def test_depth_at_the_limit_decodes() -> None:
    assert loads(_nested(MAX_DEPTH)) is not None


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 10_000, 1_000_000])
def test_deeper_documents_are_refused_with_the_limit_named(depth: int) -> None:
    with pytest.raises(JsonRefused) as refused:
        loads(_nested(depth))
    assert f"nested deeper than {MAX_DEPTH} levels" in refused.value.reason


def test_unclosed_brackets_count_too() -> None:
    assert depth_exceeds(b"[" * (MAX_DEPTH + 1))
    assert not depth_exceeds(b"[" * MAX_DEPTH)


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"note": "[" * 500 + '\\"{{{' + "}" * 50}).encode()
    assert not depth_exceeds(text)
    assert loads(text) == json.loads(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [(b"{not json", "not JSON"), (b"NaN", "not JSON"), (b'{"a": Infinity}', "not JSON")],
)
def test_what_is_not_json_is_refused_as_such(text: bytes, reason: str) -> None:
    with pytest.raises(JsonRefused) as refused:
        loads(text)
    assert reason in refused.value.reason


def test_a_proof_over_a_document_too_deep_to_walk_is_refused_with_a_reason() -> None:
    key = generate_ed25519_key()
    proven = create_proof({"a": 1}, key, "https://city.example/actor#ed25519-key")
    deep: object = 1
    for _ in range(100_000):
        deep = [deep]
    proven["a"] = deep
    with pytest.raises(ProofError, match="nested too deeply"):
        verify_proof(proven, key.public_key())
