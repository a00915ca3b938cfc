"""Base58btc and its multibase form, the encoding Multikey and Data Integrity proofs use.

Written out here rather than pulled in as a dependency: it is a dozen lines, and
the project keeps its signature layer free of small third-party encoders.
"""

from __future__ import annotations

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {char: value for value, char in enumerate(_ALPHABET)}

BASE58BTC_PREFIX = "z"


def encode_base58btc(data: bytes) -> str:
    """Encode bytes in Bitcoin's base58 alphabet; leading zero bytes become '1's."""
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(_ALPHABET[remainder])
    leading_zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * leading_zeros + "".join(reversed(digits))


def decode_base58btc(text: str) -> bytes:
    """Decode base58btc; raises ValueError naming the first character outside the alphabet."""
    number = 0
    for position, char in enumerate(text):
        try:
            number = number * 58 + _INDEX[char]
        except KeyError:
            raise ValueError(
                f"character {char!r} at position {position} is not in the base58btc alphabet"
            ) from None
    leading_ones = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * leading_ones + body


def encode_multibase(data: bytes) -> str:
    """Multibase with the base58btc header 'z', as Multikey and proofValue require."""
    return BASE58BTC_PREFIX + encode_base58btc(data)


def decode_multibase(value: str) -> bytes:
    """Decode a base58btc multibase string; other multibase encodings are refused."""
    if not value.startswith(BASE58BTC_PREFIX):
        shown = value[:1] or "nothing"
        raise ValueError(f"expected base58btc multibase starting with 'z', got {shown!r}")
    return decode_base58btc(value[1:])
