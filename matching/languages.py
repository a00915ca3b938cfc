"""Spoken languages (ISO 639-1), CEFR levels and the coarse levels of the wire.

Only languages with a two-letter ISO 639-1 code are listed, because that is
what the wire format carries; Low German, for example, has none and cannot be
chosen. The list covers the languages commonly spoken in Germany and France,
including regional ones with a code (Breton, Occitan, Basque, West Frisian…).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any

from matching.profile import CEFR_LEVELS, LANGUAGE_LEVELS
from matching.taxonomy import VocabularyError, check_labels, pick_label, read_vocabulary

CEFR_ORDER: tuple[str, ...] = CEFR_LEVELS
"""Levels from weakest to strongest; ``native`` ranks above C2."""

_CEFR_RANK: Mapping[str, int] = MappingProxyType(
    {level: rank for rank, level in enumerate(CEFR_ORDER)}
)


def is_cefr_level(level: object) -> bool:
    return isinstance(level, str) and level in _CEFR_RANK


def cefr_rank(level: str) -> int:
    """The position of ``level`` in ``CEFR_ORDER``; raises ValueError for anything else."""
    try:
        return _CEFR_RANK[level]
    except KeyError:
        raise ValueError(f"not a CEFR level: {level!r}") from None


def level_at_least(level: str, minimum: str) -> bool:
    """Whether ``level`` is ``minimum`` or better (native > C2 > … > A1)."""
    return cefr_rank(level) >= cefr_rank(minimum)


def stronger_level(a: str, b: str) -> str:
    """The better of two levels: a person listing a language twice keeps the higher one."""
    return a if cefr_rank(a) >= cefr_rank(b) else b


_COARSE: Mapping[str, str] = MappingProxyType(
    {
        "A1": "basic",
        "A2": "basic",
        "B1": "fluent",
        "B2": "fluent",
        "C1": "fluent",
        "C2": "fluent",
        "native": "native",
        "fluent": "fluent",
        "basic": "basic",
    }
)
_COARSE_RANK: Mapping[str, int] = MappingProxyType(
    {level: rank for rank, level in enumerate(LANGUAGE_LEVELS)}
)


def coarse_level(level: object) -> str | None:
    """The wire level (``native``, ``fluent``, ``basic``) of a CEFR or wire level, or None.

    B1 is where a conversation carries (the gates' threshold), so B1 and above are
    ``fluent``; a coarse level maps to itself, so coarsening twice changes nothing.
    """
    return _COARSE.get(level) if isinstance(level, str) else None


def coarse_rank(level: str) -> int:
    """The position of a wire level in ``LANGUAGE_LEVELS`` (basic 0 … native 2)."""
    try:
        return _COARSE_RANK[level]
    except KeyError:
        raise ValueError(f"not a language level: {level!r}") from None


def coarse_languages(languages: Mapping[str, str]) -> dict[str, str]:
    """Spoken languages with wire levels, sorted by code; unknown levels are left out."""
    result: dict[str, str] = {}
    for code in sorted(languages):
        level = coarse_level(languages[code])
        if level is not None:
            result[code] = level
    return result


@dataclass(frozen=True, slots=True, eq=False)
class Languages:
    """The languages a resident may list, with their names in de/fr/en."""

    codes: tuple[str, ...]
    _labels: Mapping[str, Mapping[str, str]]

    def is_known(self, code: str) -> bool:
        return code in self._labels

    def label(self, code: str, lang: str) -> str:
        """The language's name in ``lang`` (de, fr, en; anything else falls back to en)."""
        return pick_label(self._labels[code], lang)

    def normalise(self, code: str) -> str | None:
        """The known ISO 639-1 code behind a language tag, or None.

        Peers and browsers write tags like ``de-AT`` or ``FR``; the region says
        nothing the matching uses, so only the primary subtag is kept.
        """
        if not isinstance(code, str):
            return None
        primary = code.replace("_", "-").split("-", 1)[0].lower()
        return primary if primary in self._labels else None


def languages_from_document(data: Mapping[str, Any]) -> Languages:
    """Validate the structure of ``languages.json``."""
    codes = data.get("codes")
    if not isinstance(codes, dict) or not codes:
        raise VocabularyError("languages: missing codes")
    labels: dict[str, Mapping[str, str]] = {}
    for code, entry in codes.items():
        if not (len(code) == 2 and code.isascii() and code.isalpha() and code.islower()):
            raise VocabularyError(f"languages: {code!r} is not an ISO 639-1 code")
        labels[code] = check_labels(code, entry)
    return Languages(codes=tuple(sorted(labels)), _labels=MappingProxyType(labels))


@cache
def load_languages() -> Languages:
    """The languages shipped with this package, read on first use."""
    return languages_from_document(read_vocabulary("languages.json"))
