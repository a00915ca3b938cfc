"""Which language a page is shown in, and gettext for the templates.

The order is the one a visitor expects: what they chose (remembered in the session,
and on the account once logged in), else what their browser asks for
(``Accept-Language``), else the city's own language (``node.default_language``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from babel.core import negotiate_locale
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from node.models import LoginSession, Resident
from node.runtime.i18n import LANGUAGES, Translator

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
    login_session: LoginSession | None,
    resident: Resident | None,
    accept_language: str,
    default: str,
) -> str:
    for chosen in (
        login_session.language if login_session else None,
        resident.language if resident else None,
    ):
        if chosen in LANGUAGES:
            return chosen
    preferred = parse_accept_language(accept_language)
    negotiated = negotiate_locale(preferred, list(LANGUAGES), sep="-") if preferred else None
    return negotiated if negotiated in LANGUAGES else default


def template_gettext(translator: Translator) -> dict[str, Callable[..., Any]]:
    """``gettext``, ``ngettext`` and ``_`` for one render, in Jinja's "newstyle":
    placeholders are filled by keyword (``_("Hello %(name)s", name=x)``) and the
    filled-in values are escaped, the translation itself is trusted."""

    @pass_context
    def gettext(context: Context, message: str, **variables: Any) -> str:
        text = translator.gettext(message)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 - catalogue text is ours; values get escaped
        return text % variables

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        text = translator.ngettext(singular, plural, num)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 - catalogue text is ours; values get escaped
        return text % variables

    return {"gettext": gettext, "ngettext": ngettext, "_": gettext}
