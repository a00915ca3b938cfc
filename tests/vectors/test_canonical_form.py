"""The fast canonical form of plain JSON (compact, sorted keys) is byte for byte what
RFC 8785 gives, so proofs made or checked either way agree; anything JCS writes
differently (floats, non-ASCII keys, integers beyond its domain) takes the JCS
implementation."""

from __future__ import annotations

from typing import Any

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from federation.proofs import _canonical, _plain

plain_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(alphabet=st.characters(max_codepoint=127)), children, max_size=5)
    ),
    max_leaves=30,
)
any_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(blacklist_categories=("Cs",))),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.text(alphabet=st.characters(blacklist_categories=("Cs",))), children, max_size=5
        )
    ),
    max_leaves=30,
)


@settings(max_examples=300)
@given(st.dictionaries(st.text(alphabet=st.characters(max_codepoint=127)), plain_values))
def test_plain_documents_take_the_fast_form_and_it_is_jcs(document: dict[str, Any]) -> None:
    assert _plain(document)
    assert _canonical(document, "document") == rfc8785.dumps(document)


@settings(max_examples=300)
@given(st.dictionaries(st.text(alphabet=st.characters(blacklist_categories=("Cs",))), any_values))
def test_every_document_gets_the_jcs_bytes(document: dict[str, Any]) -> None:
    try:
        expected = rfc8785.dumps(document)
    except rfc8785.CanonicalizationError:
        return
    assert _canonical(document, "document") == expected


def test_what_jcs_writes_differently_is_left_to_it() -> None:
    assert not _plain({"n": 1.5})
    assert not _plain({"n": 2**53})
    assert not _plain({"é": 1})
    assert not _plain({"n": (1, 2)})
    assert _plain({"a": ["\u2028", "\x00", "\ud7ff"], "b": {"c": None, "d": True}})
