"""Turning a template and its data into a page.

Every page shares the same frame (portal name, city, colours, navigation, language
switcher, footer); :func:`render` adds those to what a handler passes, in the
visitor's language. Rendering a page that contains a form needs a CSRF token and so
a session: for a first-time visitor one is opened here, lazily, so that requests
that show no form (static files, the health check) never create one.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from matching.taxonomy import load_taxonomy
from node.accounts import sessions as session_service
from node.runtime import appkeys
from web import keys
from web.i18n import NATIVE_NAMES, template_gettext

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
PURGE_INTERVAL_SECONDS = 600.0


def create_environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    # Only switches the templates to "newstyle" gettext; the real functions come
    # with each render, in the visitor's language (see i18n.template_gettext).
    environment.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    environment.policies["ext.i18n.trimmed"] = True
    return environment


def page_state(request: web.Request) -> keys.PageState:
    return request[keys.PAGE]


async def ensure_session(request: web.Request) -> keys.PageState:
    """Open an anonymous session for a visitor who has none (for the CSRF token)."""
    state = page_state(request)
    if state.login_session is not None:
        return state
    config = request.app[appkeys.CONFIG]
    housekeeping = request.app[keys.HOUSEKEEPING]
    async with request.app[appkeys.DATABASE].write() as session:
        if time.monotonic() - housekeeping.last_purge > PURGE_INTERVAL_SECONDS:
            housekeeping.last_purge = time.monotonic()
            await session_service.purge_expired_sessions(session, config.sessions)
        opened = await session_service.open_session(session)
    state.login_session = opened.row
    state.new_token = opened.token
    return state


def frame(request: web.Request, state: keys.PageState) -> dict[str, Any]:
    """What the shared page frame (base.html) needs."""
    config = request.app[appkeys.CONFIG]
    return {
        "lang": state.language,
        "portal": config.branding.portal_name,
        "city": config.node.city,
        "resident": state.resident,
        "csrf_token": state.csrf_token,
        "languages": [(code, NATIVE_NAMES[code]) for code in NATIVE_NAMES],
        "current_path": request.path_qs if len(request.path_qs) <= 500 else request.path,
        "taxonomy_version": load_taxonomy().version,
        **template_gettext(state.translator),
    }


async def render(
    request: web.Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    with_session: bool = True,
) -> web.Response:
    """Render ``template`` inside the page frame.

    ``with_session=False`` is for error pages: they must render even when the
    database is the problem, so they never open a session (and show no forms).
    """
    state = page_state(request)
    if with_session:
        state = await ensure_session(request)
    environment = request.app[keys.TEMPLATES]
    body = environment.get_template(template).render({**frame(request, state), **(context or {})})
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def redirect(location: str) -> web.Response:
    """A 303 See Other: after a POST, the browser fetches ``location`` with GET."""
    return web.Response(status=303, headers={"Location": location})
