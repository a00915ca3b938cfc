"""Showing text that residents wrote: always as text, never as HTML.

A message is escaped piece by piece; only http(s) addresses become links, and those
carry ``rel="nofollow noopener ugc"`` (user content: no ranking credit, no access to
this page from the opened one). Line breaks are kept by the stylesheet
(``white-space: pre-wrap``), so no markup is needed for them.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

LINK_REL = "nofollow noopener ugc"
_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}»”’'\""
MAX_LINK_TEXT = 80


def _split_trailing(url: str) -> tuple[str, str]:
    """Punctuation after an address usually ends the sentence, not the address."""
    end = len(url)
    while end > 0 and url[end - 1] in _TRAILING:
        if url[end - 1] == ")" and url[:end].count("(") >= url[:end].count(")"):
            break
        end -= 1
    return url[:end], url[end:]


def linkify(text: str) -> Markup:
    """``text`` escaped, with its web addresses as safe links."""
    parts: list[Markup] = []
    position = 0
    for match in _URL.finditer(text):
        url, rest = _split_trailing(match.group(0))
        if len(url) <= len("https://"):
            continue
        shown = url if len(url) <= MAX_LINK_TEXT else url[: MAX_LINK_TEXT - 1] + "…"
        parts.append(escape(text[position : match.start()]))
        # Escaped by hand: Markup.format took 8 µs a link, and a conversation has forty.
        link = f'<a href="{escape(url)}" rel="{LINK_REL}" target="_blank">{escape(shown)}</a>'
        parts.append(Markup(link))  # noqa: S704 - the address and its text are escaped
        parts.append(escape(rest))
        position = match.end()
    parts.append(escape(text[position:]))
    return Markup("").join(parts)
