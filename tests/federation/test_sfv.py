"""Structured field values (RFC 8941), the ground RFC 9421 and Content-Digest stand on."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from federation._sfv import (
    InnerList,
    Item,
    StructuredFieldError,
    Token,
    parse_dictionary,
    parse_item,
    parse_list,
    serialize_bare_item,
    serialize_dictionary,
    serialize_item,
    serialize_list,
)


def test_dictionary_with_every_kind_of_item() -> None:
    parsed = parse_dictionary(
        'a=1, b=-2.5, c="x \\"y\\"", d=tok/en:1, e=:AQID:, f=?0, g, h=(1 "two" three);p=1'
    )
    assert parsed["a"] == Item(1)
    assert parsed["b"] == Item(Decimal("-2.5"))
    assert parsed["c"] == Item('x "y"')
    assert parsed["d"] == Item(Token("tok/en:1"))
    assert isinstance(parsed["d"].value, Token)
    assert parsed["e"] == Item(b"\x01\x02\x03")
    assert parsed["f"] == Item(False)
    assert parsed["g"] == Item(True)
    assert parsed["h"] == InnerList((Item(1), Item("two"), Item(Token("three"))), {"p": 1})


def test_serialisation_is_canonical() -> None:
    text = "a=1,b=2;x=1;y=2,   c=(a   b   c), d;q=?0, e=1.50"
    assert serialize_dictionary(parse_dictionary(text)) == (
        "a=1, b=2;x=1;y=2, c=(a b c), d;q=?0, e=1.5"
    )
    assert serialize_list(parse_list('("a" "b");k=v, 3')) == '("a" "b");k=v, 3'
    assert serialize_item(parse_item(" :cHJldGVuZCB0aGlzIGlzIGJpbmFyeQ==:;p ")) == (
        ":cHJldGVuZCB0aGlzIGlzIGJpbmFyeQ==:;p"
    )


@pytest.mark.parametrize(
    "text",
    [
        "a=1,",
        "A=1",
        "a=(1 2",
        'a="unterminated',
        'a="bad \\x escape"',
        "a=?2",
        "a=1 b=2",
        "a=:not*base64:",
        "a=1234567890123456",
        "a=1.2345",
        "a=1.",
        "a=é",
        "a=@12",
    ],
)
def test_invalid_dictionaries_are_refused(text: str) -> None:
    with pytest.raises(StructuredFieldError):
        parse_dictionary(text)


def test_bare_items_that_cannot_be_serialised() -> None:
    for value in (10**15, Decimal("1e13"), Token("1abc"), "tab\there"):
        with pytest.raises(StructuredFieldError):
            serialize_bare_item(value)


_bare = (
    st.integers(-(10**15) + 1, 10**15 - 1)
    | st.booleans()
    | st.binary(max_size=20)
    | st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)
    | st.from_regex(r"\A[a-zA-Z*][a-zA-Z0-9!#$%&'*+.^_`|~:/-]{0,10}\Z").map(Token)
    | st.decimals(min_value=-(10**11), max_value=10**11, places=3)
)
_keys = st.from_regex(r"\A[a-z*][a-z0-9_.*-]{0,8}\Z")
_params = st.dictionaries(_keys, _bare, max_size=3)
_items = st.builds(Item, _bare, _params)
_members = _items | st.builds(InnerList, st.lists(_items, max_size=3).map(tuple), _params)


@given(st.dictionaries(_keys, _members, max_size=4))
def test_serialised_dictionaries_parse_back_to_the_same_text(members: dict[str, object]) -> None:
    text = serialize_dictionary(members)  # type: ignore[arg-type]
    assert serialize_dictionary(parse_dictionary(text)) == text
