"""Decoding a peer's JSON with its nesting bounded before anything walks it.

Every later step walks the decoded document recursively: the decoder itself, the
proof check's copy, JCS canonicalisation, the handlers. A document nested a few
thousand levels deep would exhaust the interpreter's stack in one of them, and a
``RecursionError`` deep inside a handler looks like a fault of this node (a 5xx the
sender retries for days). The depth is therefore counted on the raw text first,
without recursion, and a document nested deeper than any the protocol uses is
refused as the sender's error. Size is bounded by the callers, which know their
limits (the inbox's body limit, the fetcher's document limit) and stop reading at it.
"""

from __future__ import annotations

import json
import re
from typing import NoReturn

__all__ = ["MAX_DEPTH", "JsonRefused", "depth_exceeds", "loads"]

# The deepest document this protocol sends is an activity carrying an actor with its
# keys, about six levels; 32 leaves room for other software's extensions.
MAX_DEPTH = 32

# A string literal (skipped whole, so brackets inside it do not count) or a bracket.
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


class JsonRefused(ValueError):
    """Text that is not JSON, or not JSON this node accepts; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def depth_exceeds(text: bytes, max_depth: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects in ``text`` nest deeper than ``max_depth``.

    Counts brackets outside string literals in one pass and stops at the first level
    too deep, so a hostile document costs no more than reading it.
    """
    if text.count(b"[") + text.count(b"{") <= max_depth:
        return False  # not enough brackets to nest that deep, strings or not
    depth = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > max_depth:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def loads(text: bytes, max_depth: int = MAX_DEPTH) -> object:
    """The decoded document, or JsonRefused naming why it is not accepted.

    NaN and Infinity are refused (they are not JSON, and canonicalisation cannot
    represent them), as is nesting deeper than ``max_depth``.
    """
    too_deep = f"JSON nested deeper than {max_depth} levels (this node's limit)"
    if depth_exceeds(text, max_depth):
        raise JsonRefused(too_deep)
    try:
        return json.loads(text, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise JsonRefused(f"not JSON: {exc}") from None
    except RecursionError:  # pragma: no cover - excluded by the depth count above
        raise JsonRefused(too_deep) from None
