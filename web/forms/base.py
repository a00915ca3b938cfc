"""What every form has: the values entered, one message per field in error, and safe
ways to read a submitted body.

A submitted body can hold anything (several values for one name, uploaded files,
megabytes of text); the readers here turn each into what the form expects or into
an empty value, so that no input can crash a handler.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from multidict import MultiMapping

from node.runtime.i18n import Translator

FormData = MultiMapping[Any]

# What is shown again in a field after an error; anything longer was not typed.
ECHO_LIMIT = 5000


class Form:
    """Base class: ``values`` to show again, ``errors`` (field → message)."""

    #: Field names in page order: the error summary lists errors in this order.
    fields: tuple[str, ...] = ()

    def __init__(self, translator: Translator, values: Mapping[str, Any] | None = None) -> None:
        self.t = translator
        self.values: dict[str, Any] = dict(values or {})
        self.errors: dict[str, str] = {}

    @property
    def valid(self) -> bool:
        return not self.errors

    def error(self, name: str, message: str) -> None:
        """Record a message for ``name``; the first one found for a field is kept."""
        self.errors.setdefault(name, message)

    def ordered_errors(self) -> list[tuple[str, str]]:
        known = [(name, self.errors[name]) for name in self.fields if name in self.errors]
        rest = [(name, msg) for name, msg in self.errors.items() if name not in self.fields]
        return known + rest


def text(data: FormData, name: str) -> str:
    """One text value (the first, if several were sent; files count as empty)."""
    value = data.get(name, "")
    return value if isinstance(value, str) else ""


def texts(data: FormData, name: str, limit: int = 500) -> list[str]:
    """All text values of a repeated field, without duplicates, at most ``limit``."""
    seen: list[str] = []
    for value in data.getall(name, [])[: limit * 2]:
        if isinstance(value, str) and value not in seen:
            seen.append(value)
    return seen[:limit]


def checked(data: FormData, name: str) -> bool:
    """A checkbox: present means ticked, whatever its value."""
    return name in data


def has_control_characters(value: str, allow_newlines: bool = False) -> bool:
    for char in value:
        if allow_newlines and char in "\r\n\t":
            continue
        if unicodedata.category(char) in ("Cc", "Cs", "Co"):
            return True
    return False


def echo(value: str) -> str:
    return value[:ECHO_LIMIT]
