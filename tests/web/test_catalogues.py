"""The message catalogues: complete in German and French, no fuzzy guesses, the same
placeholders as the English text, and up to date with the strings in the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from node.runtime.i18n import load_catalogues

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "web" / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def catalogue(language: str) -> Catalog:
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def entries(catalog: Catalog) -> list[Message]:
    return [message for message in catalog if message.id]


def _texts(value: str | tuple[str, ...] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return value if isinstance(value, tuple) else (value,)


def _same_placeholders(source: tuple[str, ...], translated: tuple[str, ...]) -> bool:
    """Singular texts keep exactly the placeholders of the English text. In plural
    forms the one-form may leave the number out ("einen Zwilling"), but no form may
    invent a placeholder and the last (many) form keeps them all."""
    wanted = set(PLACEHOLDER.findall(source[-1]))
    found = [set(PLACEHOLDER.findall(text)) for text in translated]
    if len(source) == 1:
        return all(names == wanted for names in found)
    allowed = set(PLACEHOLDER.findall(" ".join(source)))
    return all(names <= allowed for names in found) and found[-1] == wanted


@pytest.mark.parametrize("language", ["de", "fr"])
def test_every_message_is_translated(language: str) -> None:
    catalog = catalogue(language)
    problems = []
    for message in entries(catalog):
        strings = _texts(message.string)
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        elif not strings or not all(s.strip() for s in strings):
            problems.append(f"untranslated: {message.id!r}")
        elif not _same_placeholders(_texts(message.id), strings):
            problems.append(f"placeholders differ: {message.id!r}")
    assert not problems, "\n".join(problems)


def test_catalogues_contain_every_string_of_the_code() -> None:
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    extracted = {
        message
        for _, _, message, _, _ in extract_from_dir(
            str(ROOT),
            method_map,
            options_map,
            keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None},
        )
    }
    wanted = {m if isinstance(m, str) else m[0] for m in extracted}
    for language in ("de", "fr", "en"):
        known = {m.id if isinstance(m.id, str) else m.id[0] for m in entries(catalogue(language))}
        missing = wanted - known
        assert not missing, f"{language}: run the update described in babel.cfg: {missing}"


def test_catalogues_load_and_translate() -> None:
    catalogues = load_catalogues(TRANSLATIONS, default="de")
    assert catalogues.get("de").gettext("Log in") == "Anmelden"
    assert catalogues.get("fr").gettext("Log in") == "Se connecter"
    assert catalogues.get("en").gettext("Log in") == "Log in"
    assert catalogues.get("xx").language == "de"
    french = catalogues.get("fr")
    one, many = "There is one suggestion for you.", "There are %(count)s suggestions for you."
    assert french.ngettext(one, many, 1) == "Il y a une suggestion pour vous."
    assert "%(count)s suggestions" in french.ngettext(one, many, 3)
