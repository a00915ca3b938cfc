"""Message catalogues for the languages a node speaks (de, fr, en).

The node needs translated text too (the mails it sends are in the recipient's
language), but it must not depend on the web package that owns the catalogue
files. So the loader lives here and takes the directory as an argument; whoever
builds the application says where the ``.po`` files are.

The ``.po`` files are read as they are in the repository and turned into
translation objects in memory, so there are no compiled ``.mo`` files to keep in
sync and no build step. Fuzzy and empty entries are left out: the English msgid
is shown instead, which is better than a guess.
"""

from __future__ import annotations

import gettext as stdlib_gettext
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES: tuple[str, ...] = ("de", "fr", "en")
DOMAIN = "messages"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet (translated at use)."""
    return message


@dataclass(frozen=True, slots=True)
class Translator:
    """gettext and ngettext for one language."""

    language: str
    translations: stdlib_gettext.NullTranslations

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)


_VOWELS = frozenset("aeiouàâäéèêëîïôöùûüæœ")
_ELIDED_BEFORE = re.compile(r"\bde %\((\w+)\)s")


def _elides(word: str) -> bool:
    """Whether French "de" becomes "d'" before ``word``: a vowel, or a "y" that is one
    (Yves, not Yann). An "h" is left alone: which ones are mute cannot be told."""
    head = word[:2].lower()
    if not head:
        return False
    if head[0] == "y":
        return len(head) == 2 and head[1] not in _VOWELS
    return head[0] in _VOWELS


def elide(language: str, text: str, values: Mapping[str, object]) -> str:
    """``text`` with French elision prepared for ``values``: "de %(name)s" becomes
    "d'%(name)s" when the name begins with a vowel ("d'Anke", "d'Oldenburg"), which a
    translation cannot know in advance. Fill in the values afterwards (``%``)."""
    if language != "fr":
        return text

    def before(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if isinstance(value, str) and _elides(value):
            return f"d'%({match.group(1)})s"
        return match.group(0)

    return _ELIDED_BEFORE.sub(before, text)


def fill(language: str, text: str, values: Mapping[str, object]) -> str:
    """``text % values`` in ``language``, elided where French wants it."""
    return elide(language, text, values) % values


class Catalogues:
    """The translators for every supported language, looked up by language code."""

    def __init__(self, translators: Mapping[str, Translator], default: str) -> None:
        self._translators = dict(translators)
        self.default = default

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._translators)

    def get(self, language: str | None) -> Translator:
        """The translator for ``language``, falling back to the default language."""
        if language and language in self._translators:
            return self._translators[language]
        return self._translators[self.default]


def load_translator(po_file: Path, language: str) -> Translator:
    """Read one ``.po`` file into a translator (a missing file means untranslated)."""
    if not po_file.exists():
        return Translator(language, stdlib_gettext.NullTranslations())
    with po_file.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translator(language, stdlib_gettext.GNUTranslations(buffer))


def load_catalogues(
    directory: Path, *, default: str, languages: Iterable[str] = LANGUAGES
) -> Catalogues:
    """All catalogues under ``directory/<lang>/LC_MESSAGES/messages.po``."""
    translators = {
        language: load_translator(directory / language / "LC_MESSAGES" / f"{DOMAIN}.po", language)
        for language in languages
    }
    return Catalogues(translators, default)
