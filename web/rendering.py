"""Turning a template and its data into a page.

Every page shares the same frame (portal name, city, colours, navigation, language
switcher, footer); :func:`render` adds those to what a handler passes, in the
visitor's language. Rendering a page that contains a form needs a CSRF token: a
first-time visitor gets one here, in the signed visitor cookie (web/visitor.py),
never in a database row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from matching.taxonomy import load_taxonomy
from node.models import utcnow
from node.runtime import appkeys
from web import keys, notices
from web.i18n import NATIVE_NAMES, local_time, template_gettext
from web.visits.visitor import new_visitor

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


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
    environment.filters["local_time"] = local_time
    return environment


def page_state(request: web.Request) -> keys.PageState:
    return request[keys.PAGE]


def ensure_form_token(request: web.Request) -> keys.PageState:
    """Give a visitor who has neither session nor visitor cookie a form token."""
    state = page_state(request)
    if state.csrf_token is None:
        state.visitor = new_visitor(utcnow())
        state.visitor_changed = True
    return state


def frame(request: web.Request, state: keys.PageState) -> dict[str, Any]:
    """What the shared page frame (base.html) needs."""
    config = request.app[appkeys.CONFIG]
    return {
        "lang": state.language,
        "portal": config.branding.portal_name,
        "city": config.node.city,
        "time_zone": config.node.time_zone,
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

    ``with_session=False`` is for error pages: they show no forms, so they hand out
    no form token.
    """
    state = page_state(request)
    if with_session:
        state = ensure_form_token(request)
    environment = request.app[keys.TEMPLATES]
    unseen = await notices.unseen(request, state) if with_session else None
    values = {**frame(request, state), "unseen": unseen, **(context or {})}
    body = environment.get_template(template).render(values)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def redirect(location: str) -> web.Response:
    """A 303 See Other: after a POST, the browser fetches ``location`` with GET."""
    return web.Response(status=303, headers={"Location": location})
