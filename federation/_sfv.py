"""Structured Field Values (RFC 8941): the parts RFC 9421 and RFC 9530 rely on.

Signature-Input, Signature and Content-Digest are dictionaries, and the RFC 9421
signature base re-serialises them canonically, so parsing and serialising must
both follow RFC 8941 to the letter: a lenient parser here would let two peers
disagree on what was signed.
"""

from __future__ import annotations

import base64
import binascii
import string
from dataclasses import dataclass, field
from decimal import Decimal

__all__ = [
    "BareItem",
    "InnerList",
    "Item",
    "Member",
    "Params",
    "StructuredFieldError",
    "Token",
    "parse_dictionary",
    "parse_item",
    "parse_list",
    "serialize_bare_item",
    "serialize_dictionary",
    "serialize_inner_list",
    "serialize_item",
    "serialize_list",
    "serialize_member",
    "serialize_params",
]


class StructuredFieldError(ValueError):
    """A field value that is not a valid structured field."""


class Token(str):
    """An sf-token, kept apart from sf-string because they serialise differently."""

    __slots__ = ()


BareItem = int | Decimal | str | bytes | bool
Params = dict[str, BareItem]


@dataclass(frozen=True)
class Item:
    value: BareItem
    params: Params = field(default_factory=dict)


@dataclass(frozen=True)
class InnerList:
    items: tuple[Item, ...]
    params: Params = field(default_factory=dict)


Member = Item | InnerList

_LCALPHA = set(string.ascii_lowercase)
_DIGITS = set(string.digits)
_KEY_START = _LCALPHA | {"*"}
_KEY_CHARS = _LCALPHA | _DIGITS | set("_-.*")
_TCHAR = set(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~")
_TOKEN_CHARS = _TCHAR | set(":/")
_TOKEN_START = set(string.ascii_letters) | {"*"}
_BASE64_CHARS = set(string.ascii_letters + string.digits + "+/=")


class _Parser:
    """A cursor over one field value, following the algorithms of RFC 8941 §4.2."""

    def __init__(self, text: str) -> None:
        if not text.isascii():
            raise StructuredFieldError("structured field values must be ASCII")
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def take(self) -> str:
        char = self.peek()
        self.pos += 1
        return char

    def skip_sp(self) -> None:
        while self.peek() == " ":
            self.pos += 1

    def skip_ows(self) -> None:
        while self.peek() in (" ", "\t") and not self.at_end():
            self.pos += 1

    def fail(self, what: str) -> StructuredFieldError:
        return StructuredFieldError(f"{what} at position {self.pos}")

    def key(self) -> str:
        if self.peek() not in _KEY_START or self.at_end():
            raise self.fail("expected a key")
        start = self.pos
        while not self.at_end() and self.peek() in _KEY_CHARS:
            self.pos += 1
        return self.text[start : self.pos]

    def params(self) -> Params:
        params: Params = {}
        while self.peek() == ";":
            self.pos += 1
            self.skip_sp()
            name = self.key()
            value: BareItem = True
            if self.peek() == "=":
                self.pos += 1
                value = self.bare_item()
            params[name] = value
        return params

    def item(self) -> Item:
        value = self.bare_item()
        return Item(value, self.params())

    def item_or_inner_list(self) -> Member:
        if self.peek() == "(":
            return self.inner_list()
        return self.item()

    def inner_list(self) -> InnerList:
        self.pos += 1  # "("
        items: list[Item] = []
        while not self.at_end():
            self.skip_sp()
            if self.peek() == ")":
                self.pos += 1
                return InnerList(tuple(items), self.params())
            items.append(self.item())
            if self.peek() not in (" ", ")"):
                raise self.fail("expected a space or ')' in inner list")
        raise self.fail("inner list is not closed")

    def bare_item(self) -> BareItem:
        char = self.peek()
        if char == "-" or char in _DIGITS:
            return self.number()
        if char == '"':
            return self.string()
        if char == ":":
            return self.byte_sequence()
        if char == "?":
            return self.boolean()
        if char in _TOKEN_START and char:
            return self.token()
        raise self.fail("expected an item")

    def number(self) -> int | Decimal:
        negative = self.peek() == "-"
        if negative:
            self.pos += 1
        start = self.pos
        if self.peek() not in _DIGITS or self.at_end():
            raise self.fail("expected a digit")
        is_decimal = False
        while not self.at_end():
            char = self.peek()
            if char in _DIGITS:
                self.pos += 1
            elif char == "." and not is_decimal:
                if self.pos - start > 12:
                    raise self.fail("decimal has too many integer digits")
                is_decimal = True
                self.pos += 1
            else:
                break
            if self.pos - start > (16 if is_decimal else 15):
                raise self.fail("number has too many digits")
        literal = self.text[start : self.pos]
        sign = -1 if negative else 1
        if not is_decimal:
            return sign * int(literal)
        if literal.endswith("."):
            raise self.fail("decimal ends with '.'")
        if len(literal.split(".")[1]) > 3:
            raise self.fail("decimal has more than three fractional digits")
        return sign * Decimal(literal)

    def string(self) -> str:
        self.pos += 1  # opening quote
        chars: list[str] = []
        while not self.at_end():
            char = self.take()
            if char == "\\":
                escaped = self.take()
                if escaped not in ('"', "\\"):
                    raise self.fail("invalid escape in string")
                chars.append(escaped)
            elif char == '"':
                return "".join(chars)
            elif not (" " <= char <= "~"):
                raise self.fail("invalid character in string")
            else:
                chars.append(char)
        raise self.fail("string is not closed")

    def token(self) -> Token:
        start = self.pos
        self.pos += 1
        while not self.at_end() and self.peek() in _TOKEN_CHARS:
            self.pos += 1
        return Token(self.text[start : self.pos])

    def byte_sequence(self) -> bytes:
        self.pos += 1  # opening colon
        end = self.text.find(":", self.pos)
        if end < 0:
            raise self.fail("byte sequence is not closed")
        encoded = self.text[self.pos : end]
        if not set(encoded) <= _BASE64_CHARS:
            raise self.fail("byte sequence is not base64")
        self.pos = end + 1
        try:
            padded = encoded + "=" * (-len(encoded) % 4)
            return base64.b64decode(padded, validate=True)
        except binascii.Error as error:
            raise self.fail(f"byte sequence is not base64 ({error})") from None

    def boolean(self) -> bool:
        self.pos += 1  # "?"
        char = self.take()
        if char == "1":
            return True
        if char == "0":
            return False
        raise self.fail("expected ?0 or ?1")


def _finish(parser: _Parser) -> None:
    parser.skip_sp()
    if not parser.at_end():
        raise parser.fail("unexpected characters after the value")


def parse_dictionary(text: str) -> dict[str, Member]:
    """Parse an sf-dictionary; an empty string is an empty dictionary."""
    parser = _Parser(text)
    parser.skip_sp()
    members: dict[str, Member] = {}
    while not parser.at_end():
        name = parser.key()
        if parser.peek() == "=":
            parser.pos += 1
            members[name] = parser.item_or_inner_list()
        else:
            members[name] = Item(True, parser.params())
        parser.skip_ows()
        if parser.at_end():
            break
        if parser.take() != ",":
            raise parser.fail("expected ',' between dictionary members")
        parser.skip_ows()
        if parser.at_end():
            raise parser.fail("trailing comma")
    return members


def parse_list(text: str) -> list[Member]:
    """Parse an sf-list."""
    parser = _Parser(text)
    parser.skip_sp()
    members: list[Member] = []
    while not parser.at_end():
        members.append(parser.item_or_inner_list())
        parser.skip_ows()
        if parser.at_end():
            break
        if parser.take() != ",":
            raise parser.fail("expected ',' between list members")
        parser.skip_ows()
        if parser.at_end():
            raise parser.fail("trailing comma")
    return members


def parse_item(text: str) -> Item:
    """Parse a single sf-item with its parameters."""
    parser = _Parser(text)
    parser.skip_sp()
    item = parser.item()
    _finish(parser)
    return item


def serialize_bare_item(value: BareItem) -> str:
    """Serialise one bare item in RFC 8941 §4.1 canonical form."""
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        if abs(value) > 999_999_999_999_999:
            raise StructuredFieldError("integer out of range")
        return str(value)
    if isinstance(value, Decimal):
        rounded = value.quantize(Decimal("0.001"))
        integer, _, fraction = f"{rounded:f}".partition(".")
        if len(integer.lstrip("-")) > 12:
            raise StructuredFieldError("decimal out of range")
        return f"{integer}.{fraction.rstrip('0') or '0'}"
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    if isinstance(value, Token):
        if not value or value[0] not in _TOKEN_START or not set(value) <= _TOKEN_CHARS:
            raise StructuredFieldError(f"invalid token {value!r}")
        return str(value)
    if isinstance(value, str):
        if not all(" " <= char <= "~" for char in value):
            raise StructuredFieldError("strings may hold printable ASCII only")
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise StructuredFieldError(f"cannot serialise {type(value).__name__}")


def serialize_params(params: Params) -> str:
    parts: list[str] = []
    for name, value in params.items():
        parts.append(";" + name if value is True else f";{name}={serialize_bare_item(value)}")
    return "".join(parts)


def serialize_item(item: Item) -> str:
    return serialize_bare_item(item.value) + serialize_params(item.params)


def serialize_inner_list(inner: InnerList) -> str:
    return ("(" + " ".join(serialize_item(item) for item in inner.items) + ")") + serialize_params(
        inner.params
    )


def serialize_member(member: Member) -> str:
    if isinstance(member, InnerList):
        return serialize_inner_list(member)
    return serialize_item(member)


def serialize_dictionary(members: dict[str, Member]) -> str:
    parts: list[str] = []
    for name, member in members.items():
        if isinstance(member, Item) and member.value is True:
            parts.append(name + serialize_params(member.params))
        else:
            parts.append(f"{name}={serialize_member(member)}")
    return ", ".join(parts)


def serialize_list(members: list[Member]) -> str:
    return ", ".join(serialize_member(member) for member in members)
