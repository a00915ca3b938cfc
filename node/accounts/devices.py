"""A coarse name for the device behind a session, such as "Firefox on Linux".

Residents need to tell their sessions apart to end the right one; they do not need,
and the node must not keep, the full User-Agent header (it narrows down who someone
is) or a network address. Only the browser family and the operating system family
are taken; anything else is ``unknown``. Pages word the label in the reader's
language (:func:`parts`); product names are not translated.
"""

from __future__ import annotations

# Order matters: many browsers also name the ones they are built on.
_BROWSERS: tuple[tuple[str, str], ...] = (
    ("edg/", "Edge"),
    ("edga/", "Edge"),
    ("edgios/", "Edge"),
    ("opr/", "Opera"),
    ("samsungbrowser/", "Samsung Internet"),
    ("vivaldi/", "Vivaldi"),
    ("firefox/", "Firefox"),
    ("fxios/", "Firefox"),
    ("crios/", "Chrome"),
    ("chromium/", "Chromium"),
    ("chrome/", "Chrome"),
    ("safari/", "Safari"),
)
_SYSTEMS: tuple[tuple[str, str], ...] = (
    ("android", "Android"),
    ("iphone", "iOS"),
    ("ipad", "iPadOS"),
    ("cros", "ChromeOS"),
    ("windows", "Windows"),
    ("mac os x", "macOS"),
    ("macintosh", "macOS"),
    ("linux", "Linux"),
)
UNKNOWN = "unknown"
SEPARATOR = " on "
MAX_HEADER = 1000


def label(user_agent: str) -> str:
    """The browser and system families named in a User-Agent header."""
    folded = user_agent[:MAX_HEADER].casefold()
    browser = next((name for key, name in _BROWSERS if key in folded), UNKNOWN)
    system = next((name for key, name in _SYSTEMS if key in folded), UNKNOWN)
    return f"{browser}{SEPARATOR}{system}"


def parts(stored: str | None) -> tuple[str, str]:
    """Browser and system of a stored label (``unknown`` where it named none), for a
    page to word in the reader's language."""
    browser, _, system = (stored or "").partition(SEPARATOR)
    return browser or UNKNOWN, system or UNKNOWN
