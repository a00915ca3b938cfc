"""The start page, the city's colours and the language switcher."""

from __future__ import annotations

from aiohttp import web

from node.accounts import accounts
from node.accounts import sessions as session_service
from node.models import utcnow
from node.runtime import appkeys
from web.forms.settings import LanguageForm
from web.keys import PAGE
from web.rendering import redirect, render
from web.routing import page
from web.visits.visitor import new_visitor


@page
async def landing(request: web.Request) -> web.Response:
    t = request[PAGE].translator
    notice = None
    if "logged_out" in request.query:
        notice = t.gettext("You are logged out. See you soon!")
    return await render(request, "landing/index.html", {"notice": notice})


async def theme(request: web.Request) -> web.Response:
    """The city's colours as CSS custom properties: a stylesheet, not inline style,
    so that the Content-Security-Policy can forbid inline styles and scripts."""
    branding = request.app[appkeys.CONFIG].branding
    css = f":root {{ --primary: {branding.primary_colour}; --accent: {branding.accent_colour}; }}\n"
    return web.Response(
        text=css,
        content_type="text/css",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@page
async def change_language(request: web.Request) -> web.Response:
    """Remember the chosen language: in the session and on the account when logged in,
    else in the visitor cookie (no row is written for a visitor)."""
    state = request[PAGE]
    form = LanguageForm(state.translator).parse(await request.post())
    if not form.valid:
        raise web.HTTPBadRequest()
    language = form.values["language"]
    if state.login_session is None:
        state.visitor = (state.visitor or new_visitor(utcnow())).choosing(language)
        state.visitor_changed = True
        return redirect(form.values["next"] or "/")
    async with request.app[appkeys.DATABASE].write() as session:
        await session_service.set_session_language(session, state.login_session, language)
        if state.resident is not None:
            resident = await accounts.get_resident(session, state.resident.id)
            if resident is not None:
                await accounts.set_language(session, resident, language)
    return redirect(form.values["next"] or "/")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", landing, name="landing")
    app.router.add_get("/theme.css", theme, name="theme")
    app.router.add_post("/language", change_language, name="language")
