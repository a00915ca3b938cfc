"""Occupations as ISCO-08 major (1 digit) and sub-major (2 digit) groups.

Two digits are as precise as an occupation may get on the wire:
"teaching professionals" says something about a person, a 4-digit
"secondary school teacher of chemistry" can single one out in a small town.
Not being in work (retired, student, caring at home) is not an ISCO group and
has no code: such a resident simply gives no occupation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any

from matching.taxonomy import VocabularyError, check_labels, pick_label, read_vocabulary

MAX_DIGITS = 2


@dataclass(frozen=True, slots=True, eq=False)
class Occupations:
    """The ISCO-08 groups a resident may choose from, with labels in de/fr/en."""

    codes: tuple[str, ...]
    _labels: Mapping[str, Mapping[str, str]]

    @property
    def major_groups(self) -> tuple[str, ...]:
        return tuple(code for code in self.codes if len(code) == 1)

    def sub_major_groups(self, major: str) -> tuple[str, ...]:
        """The 2-digit groups inside one major group, in code order."""
        return tuple(code for code in self.codes if len(code) == 2 and code[0] == major)

    def is_known(self, code: str) -> bool:
        return code in self._labels

    def parent(self, code: str) -> str | None:
        """The major group of a sub-major group ("23" → "2"); None for a major group."""
        if code not in self._labels:
            raise KeyError(code)
        return code[:-1] or None

    def label(self, code: str, lang: str) -> str:
        """The label in ``lang`` (de, fr, en; anything else falls back to en)."""
        return pick_label(self._labels[code], lang)

    def normalise(self, code: str) -> str | None:
        """The most specific known group that ``code`` starts with, or None.

        A peer that sends a 3- or 4-digit ISCO code is more precise than the
        protocol allows; cutting it back to two digits keeps what may be kept.
        """
        if not isinstance(code, str) or not code.isascii() or not code.isdigit():
            return None
        for length in range(min(len(code), MAX_DIGITS), 0, -1):
            if code[:length] in self._labels:
                return code[:length]
        return None

    def shared_group(self, a: str | None, b: str | None) -> str | None:
        """The most specific group both codes fall in ("23", "24" → "2"), or None."""
        if a is None or b is None:
            return None
        length = 0
        while length < min(len(a), len(b)) and a[length] == b[length]:
            length += 1
        for size in range(length, 0, -1):
            if a[:size] in self._labels:
                return a[:size]
        return None


def occupations_from_document(data: Mapping[str, Any]) -> Occupations:
    """Validate the structure of ``occupations.json``."""
    groups = data.get("groups")
    if not isinstance(groups, dict) or not groups:
        raise VocabularyError("occupations: missing groups")
    labels: dict[str, Mapping[str, str]] = {}
    for code, entry in groups.items():
        if not (code.isascii() and code.isdigit() and 1 <= len(code) <= MAX_DIGITS):
            raise VocabularyError(f"occupations: malformed ISCO code {code!r}")
        if len(code) > 1 and code[:-1] not in groups:
            raise VocabularyError(f"occupations: {code!r} has no major group")
        labels[code] = check_labels(code, entry)
    return Occupations(codes=tuple(sorted(labels)), _labels=MappingProxyType(labels))


@cache
def load_occupations() -> Occupations:
    """The ISCO-08 groups shipped with this package, read on first use."""
    return occupations_from_document(read_vocabulary("occupations.json"))
