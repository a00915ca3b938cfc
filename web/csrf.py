"""Cross-site request forgery protection for every state-changing page request.

A synchroniser token: each session (anonymous ones too, so the login and
registration forms are covered) holds a random token that every form repeats in a
hidden field. Another site can make a browser send a form here, but cannot read the
token out of our pages, so its forms fail with a 403. SameSite=Lax cookies are a
second line, not the only one.

Safe methods (GET, HEAD, OPTIONS) are never checked, which is why no handler may
change anything on a GET.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from web.keys import PAGE
from web.routing import Handler, is_page

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FIELD = "csrf_token"


class CsrfFailure(web.HTTPForbidden):
    """A missing or wrong token (the error page explains it in the visitor's words)."""


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method in SAFE_METHODS or not is_page(request):
        return await handler(request)
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
