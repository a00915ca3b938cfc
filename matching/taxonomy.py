"""The shared interest taxonomy: the only interest codes a node publishes or scores.

Both nodes of a pair must read exactly the same codes, or their scores drift
apart; that is why the taxonomy is a versioned data file shipped with the code
and not something a node edits. Codes are hierarchical (``sport``,
``sport.cycling``) so that anonymisation can replace a rare interest by its
category instead of dropping it.

Labels are written in running-text form ("cycling", "vélo", "Radfahren"), as
they appear inside an explanation; a page that shows one as a heading
capitalises it itself.

The file deliberately contains no special categories of personal data
(religion, politics, health, sexuality, ethnic origin): a code that does not
exist cannot be published.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import Any

LABEL_LANGUAGES: tuple[str, ...] = ("de", "fr", "en")
FALLBACK_LANGUAGE = "en"

_SEGMENT = r"[a-z][a-z0-9_]*"
_CODE = re.compile(rf"{_SEGMENT}(?:\.{_SEGMENT})*")


class VocabularyError(ValueError):
    """A shipped vocabulary file is malformed; raised when it is loaded, never later."""


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise VocabularyError(f"duplicate key {key!r}")
        result[key] = value
    return result


def read_vocabulary(filename: str) -> dict[str, Any]:
    """Read one of the package's data files.

    Plain ``json`` would let a duplicated code silently overwrite the first one,
    which would make two nodes with hand-edited files disagree without notice.
    The files are found through the ``matching.data`` package rather than
    ``matching`` itself, so that a same-named test directory on ``sys.path``
    cannot shadow them.
    """
    text = (files("matching.data") / filename).read_text(encoding="utf-8")
    data = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    if not isinstance(data, dict):
        raise VocabularyError(f"{filename}: top level must be an object")
    return data


def check_labels(owner: str, labels: object) -> Mapping[str, str]:
    """Every entry needs all three languages: a resident never sees a missing label."""
    if not isinstance(labels, dict):
        raise VocabularyError(f"{owner}: labels must be an object")
    for lang in LABEL_LANGUAGES:
        value = labels.get(lang)
        if not isinstance(value, str) or not value.strip():
            raise VocabularyError(f"{owner}: missing {lang} label")
    return MappingProxyType({lang: labels[lang] for lang in LABEL_LANGUAGES})


def pick_label(labels: Mapping[str, str], lang: str) -> str:
    """The label in ``lang``, falling back to English for any other language."""
    return labels.get(lang) or labels[FALLBACK_LANGUAGE]


@dataclass(frozen=True, slots=True, eq=False)
class Taxonomy:
    """One version of the interest taxonomy.

    ``codes`` is sorted, which is also the order in which interests are listed
    to residents and in explanations: a parent always sorts just before its
    children, and both nodes get the same order without extra data.
    """

    version: str
    codes: tuple[str, ...]
    categories: tuple[str, ...]
    _labels: Mapping[str, Mapping[str, str]]
    _parents: Mapping[str, str | None]
    _children: Mapping[str, tuple[str, ...]]

    @classmethod
    def from_labels(cls, version: str, labels: Mapping[str, Mapping[str, str]]) -> Taxonomy:
        """Build a taxonomy from ``code -> labels``; the hierarchy follows from the dots."""
        parents: dict[str, str | None] = {}
        children: dict[str, list[str]] = {code: [] for code in labels}
        for code in labels:
            if not _CODE.fullmatch(code):
                raise VocabularyError(f"malformed interest code {code!r}")
            parent = code.rpartition(".")[0] or None
            if parent is not None:
                if parent not in labels:
                    raise VocabularyError(f"{code!r} has no parent {parent!r}")
                children[parent].append(code)
            parents[code] = parent
        codes = tuple(sorted(labels))
        return cls(
            version=version,
            codes=codes,
            categories=tuple(code for code in codes if parents[code] is None),
            _labels=MappingProxyType(dict(labels)),
            _parents=MappingProxyType(parents),
            _children=MappingProxyType({c: tuple(sorted(k)) for c, k in children.items()}),
        )

    @property
    def interests(self) -> tuple[str, ...]:
        """The codes below the categories: what a resident ticks."""
        return tuple(code for code in self.codes if self._parents[code] is not None)

    def is_known(self, code: str) -> bool:
        return code in self._parents

    def parent(self, code: str) -> str | None:
        """The enclosing code, or None for a category. Raises KeyError if unknown."""
        return self._parents[code]

    def children(self, code: str) -> tuple[str, ...]:
        """The direct children, sorted. Raises KeyError if unknown."""
        return self._children[code]

    def ancestors(self, code: str) -> tuple[str, ...]:
        """All enclosing codes, nearest first (``sport.cycling`` → ``("sport",)``)."""
        result: list[str] = []
        parent = self._parents[code]
        while parent is not None:
            result.append(parent)
            parent = self._parents[parent]
        return tuple(result)

    def category(self, code: str) -> str:
        """The top-level code a code belongs to (itself for a category)."""
        ancestors = self.ancestors(code)
        return ancestors[-1] if ancestors else code

    def label(self, code: str, lang: str) -> str:
        """The label in ``lang`` (de, fr, en; anything else falls back to en)."""
        return pick_label(self._labels[code], lang)

    def normalise(self, code: str) -> str | None:
        """The nearest known code for ``code``, or None.

        A peer on a newer taxonomy version may send a leaf this node does not
        know yet; its known parent still carries most of the meaning, so it is
        kept rather than lost.
        """
        if not isinstance(code, str):
            return None
        while code:
            if code in self._parents:
                return code
            code = code.rpartition(".")[0]
        return None

    def sort(self, codes: Iterable[str]) -> tuple[str, ...]:
        """Known codes in taxonomy order, without duplicates."""
        return tuple(sorted({code for code in codes if code in self._parents}))


def taxonomy_from_document(data: Mapping[str, Any]) -> Taxonomy:
    """Validate the structure of ``taxonomy.json`` and build the taxonomy."""
    version = data.get("version")
    if not isinstance(version, str) or not version:
        raise VocabularyError("taxonomy: missing version")
    categories = data.get("categories")
    if not isinstance(categories, dict) or not categories:
        raise VocabularyError("taxonomy: missing categories")
    labels: dict[str, Mapping[str, str]] = {}
    for category, entry in categories.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("interests"), dict):
            raise VocabularyError(f"taxonomy: category {category!r} needs labels and interests")
        labels[category] = check_labels(category, entry.get("labels"))
        for item, item_labels in entry["interests"].items():
            code = f"{category}.{item}"
            labels[code] = check_labels(code, item_labels)
    return Taxonomy.from_labels(version, labels)


@cache
def load_taxonomy() -> Taxonomy:
    """The taxonomy shipped with this package, read on first use."""
    return taxonomy_from_document(read_vocabulary("taxonomy.json"))
