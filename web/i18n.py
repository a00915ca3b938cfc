"""Which language a page is shown in, and gettext for the templates.

The order is the one a visitor expects: what they chose (remembered in the session,
and on the account once logged in), else what their browser asks for
(``Accept-Language``), else the city's own language (``node.default_language``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel.core import Locale, negotiate_locale
from babel.dates import (
    DateTimePattern,
    get_date_format,
    get_datetime_format,
    get_time_format,
    parse_pattern,
)
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from node.models import Resident
from node.runtime.i18n import LANGUAGES, Translator, elide

# Each language named in itself, for the language switcher.
NATIVE_NAMES = {"de": "Deutsch", "fr": "Français", "en": "English"}

MAX_HEADER_ITEMS = 32


def parse_accept_language(header: str) -> list[str]:
    """Language tags from an ``Accept-Language`` header, most wanted first (q=0 left
    out). Malformed parts are skipped: a header is a hint, never an error."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:MAX_HEADER_ITEMS]):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*" or len(tag) > 35:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if 0 < quality <= 1:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(
    chosen: str | None,
    resident: Resident | None,
    accept_language: str,
    default: str,
) -> str:
    """``chosen`` is the choice remembered in the session or the visitor cookie."""
    for candidate in (chosen, resident.language if resident else None):
        if candidate in LANGUAGES:
            return candidate
    preferred = parse_accept_language(accept_language)
    negotiated = negotiate_locale(preferred, list(LANGUAGES), sep="-") if preferred else None
    return negotiated if negotiated in LANGUAGES else default


def template_gettext(translator: Translator) -> dict[str, Callable[..., Any]]:
    """``gettext``, ``ngettext`` and ``_`` for one render, in Jinja's "newstyle":
    placeholders are filled by keyword (``_("Hello %(name)s", name=x)``) and the
    filled-in values are escaped, the translation itself is trusted."""

    @pass_context
    def gettext(context: Context, message: str, **variables: Any) -> str:
        text = elide(translator.language, translator.gettext(message), variables)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 - catalogue text is ours; values get escaped
        return text % variables

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        text = elide(translator.language, translator.ngettext(singular, plural, num), variables)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 - catalogue text is ours; values get escaped
        return text % variables

    return {"gettext": gettext, "ngettext": ngettext, "_": gettext}


@pass_context
def local_time(context: Context, moment: datetime | None) -> str:
    """A stored (UTC) moment in the node's time zone (``node.time_zone``), written the
    way the reader's language writes a date with its time: "01.12.2026, 19:05",
    "1 déc. 2026, 19:05", "Dec 1, 2026, 7:05 PM". Nobody has to convert from UTC."""
    if moment is None:
        return "–"
    zone = ZoneInfo(context.get("time_zone") or "UTC")
    local = moment.astimezone(zone)
    formats = _formats(context.get("lang") or "en")
    date = formats.date.apply(local, formats.locale)
    time = formats.time.apply(local, formats.locale)
    return formats.joined.replace("{1}", date).replace("{0}", time)


@dataclass(frozen=True, slots=True)
class _Formats:
    locale: Locale
    date: DateTimePattern
    time: DateTimePattern
    joined: str  # "{1}, {0}": date, time


@lru_cache(maxsize=16)
def _formats(language: str) -> _Formats:
    """A language's parsed patterns, once: a conversation shows forty moments, and
    parsing the locale and patterns anew for each cost more than the rest of the page."""
    locale = Locale.parse(language)
    return _Formats(
        locale,
        parse_pattern(get_date_format("medium", locale=locale)),
        parse_pattern(get_time_format("short", locale=locale)),
        str(get_datetime_format("medium", locale=locale)),
    )
