"""The two checks every route applies to what the address bar carries.

An id in a path and a place to go back to (``next``) come straight from the
browser, so anyone can put anything there. Each has one check here, used by every
route, so that no route can forget a case: Unicode digits such as "²" pass
``str.isdigit()`` but not ``int()``, and a TAB or a backslash in a redirect target
is dropped or rewritten by browsers into a different host.
"""

from __future__ import annotations

import re
import unicodedata

from aiohttp import web

MAX_ID = 2**31 - 1  # ids are INTEGER columns: 32 bits on PostgreSQL
MAX_TARGET_LENGTH = 500
_ASCII_DIGITS = re.compile(r"[0-9]{1,10}")
# control, surrogate, private-use, format (bidi overrides) and line/paragraph separators
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cf", "Zl", "Zp"})


def path_id(request: web.Request, name: str) -> int:
    """The id ``name`` of the matched route; 404 unless ASCII digits within the
    range the database can hold (anything else names nothing that exists)."""
    raw = request.match_info.get(name, "")
    if not _ASCII_DIGITS.fullmatch(raw):
        raise web.HTTPNotFound()
    value = int(raw)
    if not 0 < value <= MAX_ID:
        raise web.HTTPNotFound()
    return value


def local_target(value: str, fallback: str) -> str:
    """``value`` if it is a path on this site, else ``fallback``.

    Only a single leading "/" is local: "//host" and "/\\host" name another host,
    browsers drop TAB, CR and LF (so "/<TAB>/host" becomes "//host"), and a control
    character in a ``Location`` header would break the answer itself."""
    if (
        not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or len(value) > MAX_TARGET_LENGTH
        or any(unicodedata.category(char) in _UNSAFE_CATEGORIES for char in value)
    ):
        return fallback
    return value
