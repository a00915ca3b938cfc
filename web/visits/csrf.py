"""Cross-site request forgery protection for every state-changing page request.

A synchroniser token: each session holds a random token that every form repeats
in a hidden field; before login the signed visitor cookie holds it (so the login
and registration forms are covered without a database row). Another site can
make a browser send a form here, but cannot read the token out of our pages, so
its forms fail with a 403. SameSite=Lax cookies are a second line, not the only
one.

A second layer does not depend on the token at all: a browser says where a request
comes from (``Sec-Fetch-Site``, ``Origin``), and a state-changing request that a
browser marks as coming from another site is refused even with a valid token (a
token can leak, through a shared computer or a careless copy of a page). Clients
that send neither header (scripts, old browsers) rely on the token alone.

Safe methods (GET, HEAD, OPTIONS) are never checked, which is why no handler may
change anything on a GET.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from aiohttp import web

from node.runtime import appkeys
from web.keys import PAGE
from web.routing import Handler, is_page

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FIELD = "csrf_token"


_DEFAULT_PORTS = {"http": "80", "https": "443"}


class CsrfFailure(web.HTTPForbidden):
    """A missing or wrong token (the error page explains it in the visitor's words)."""


class CrossSiteRequest(web.HTTPForbidden):
    """A browser said the request comes from another site (explained on the error page)."""


def _origin(scheme: str, authority: str) -> str:
    """``scheme://host[:port]`` in one spelling: lower case, no default port."""
    scheme, authority = scheme.lower(), authority.lower()
    port = _DEFAULT_PORTS.get(scheme)
    if port and authority.endswith(":" + port):
        authority = authority[: -len(port) - 1]
    return f"{scheme}://{authority}"


def own_origins(request: web.Request) -> frozenset[str]:
    """Every origin this node's pages are served from: base_url's and each public
    authority, with base_url's scheme."""
    config = request.app[appkeys.CONFIG]
    scheme = urlsplit(config.node.base_url).scheme
    return frozenset(_origin(scheme, authority) for authority in config.authorities)


def is_cross_site(request: web.Request) -> bool:
    """True when the browser marks the request as sent from another site."""
    if request.headers.get("Sec-Fetch-Site", "").strip().lower() == "cross-site":
        return True
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    try:
        parts = urlsplit(origin.strip())
    except ValueError:  # an unclosed IPv6 bracket and the like
        return True
    if not parts.scheme or not parts.netloc or parts.path or parts.query:
        return True  # "null" (sandboxed frames, some redirects) or something malformed
    return _origin(parts.scheme, parts.netloc) not in own_origins(request)


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method in SAFE_METHODS or not is_page(request):
        return await handler(request)
    if is_cross_site(request):
        raise CrossSiteRequest()
    state = request[PAGE]
    try:
        form = await request.post()
    except web.HTTPException:
        raise
    except Exception as exc:  # a body that is not a form at all
        raise web.HTTPBadRequest(reason="unreadable form") from exc
    sent = form.get(FIELD)
    expected = state.csrf_token
    if (
        expected is None
        or not isinstance(sent, str)
        or not hmac.compare_digest(sent.encode("utf-8", "replace"), expected.encode("utf-8"))
    ):
        raise CsrfFailure()
    return await handler(request)
