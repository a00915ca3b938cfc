"""Wires the resident-facing web interface into a node application.

Middlewares, outermost first: security headers (so that error pages get them
too), error pages, sessions (and the page language), CSRF. All but the first act
on page routes only, so the node's federation endpoints are left alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from node.runtime import appkeys
from node.runtime.i18n import load_catalogues
from node.runtime.mail import Mailer
from web import keys, pages
from web.errors import error_middleware
from web.rendering import create_environment
from web.routing import remember_page_paths
from web.security import security_headers_middleware
from web.visits.csrf import csrf_middleware
from web.visits.sessions import session_middleware
from web.visits.visitor import sealing_key

WEB_DIR = Path(__file__).resolve().parent
TRANSLATIONS_DIR = WEB_DIR / "translations"
STATIC_DIR = WEB_DIR / "static"


def setup(app: web.Application) -> None:
    """Entry point ``zwilling.extensions``: registers pages, sessions and templates."""
    app.middlewares.extend(
        [security_headers_middleware, error_middleware, session_middleware, csrf_middleware]
    )
    app.cleanup_ctx.append(_resources)
    app.on_response_prepare.append(_neutral_server_header)
    pages.add_routes(app)
    app.router.add_static("/static", STATIC_DIR, name="static", append_version=False)
    remember_page_paths(app)


SERVER_HEADER = "zwilling"


async def _neutral_server_header(request: web.Request, response: web.StreamResponse) -> None:
    """Name no software versions: they only help someone looking for a known flaw."""
    response.headers["Server"] = SERVER_HEADER


async def _resources(app: web.Application) -> AsyncIterator[None]:
    """Catalogues, templates, the mailer and the visitor cookie key, made when the app
    starts (not at import)."""
    config = app[appkeys.CONFIG]
    catalogues = load_catalogues(TRANSLATIONS_DIR, default=config.node.default_language)
    app[appkeys.CATALOGUES] = catalogues
    app[appkeys.MAILER] = Mailer(config, catalogues)
    app[keys.TEMPLATES] = create_environment()
    app[keys.VISITOR_KEY] = sealing_key(app[appkeys.KEYS].secret)
    yield
