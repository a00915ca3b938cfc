"""Which requests are pages of the web interface.

The node serves more than pages (federation endpoints, the health check), and those
must not get sessions, CSRF checks or HTML error pages. Handlers of pages are
marked with :func:`page`; the web middlewares act on marked routes only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Handler)

_MARK = "_zwilling_page"
PAGE_PATHS = web.AppKey("web_page_paths", frozenset)


def page(handler: H) -> H:
    """Mark a handler as a page: session, language, CSRF and HTML errors apply."""
    setattr(handler, _MARK, True)
    return handler


def is_page(request: web.Request) -> bool:
    handler = getattr(request.match_info, "handler", None)
    return bool(getattr(handler, _MARK, False))


def remember_page_paths(app: web.Application) -> None:
    """Note the paths of page routes, so that a wrong method on one of them (405)
    still gets an HTML page although no page handler matched."""
    app[PAGE_PATHS] = frozenset(
        route.resource.canonical
        for route in app.router.routes()
        if route.resource is not None and getattr(route.handler, _MARK, False)
    )


def wants_html(request: web.Request) -> bool:
    """For requests that match no page (404, 405): answer a browser with a page."""
    if is_page(request) or request.path in request.app.get(PAGE_PATHS, frozenset()):
        return True
    accept = request.headers.get("Accept", "")
    return "text/html" in accept
