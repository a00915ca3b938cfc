"""Mein Zwilling / Mon jumeau / My twin: the twin and the top suggestions per partner
city, with the score and the reason in the viewer's language."""

from __future__ import annotations

from aiohttp import web

from node.contacts import views as contact_views
from node.matches.twin_view import twin_overview
from node.runtime import appkeys
from web.keys import PAGE
from web.rendering import render
from web.routing import page
from web.visits.access import require_resident


@page
async def twin(request: web.Request) -> web.StreamResponse:
    resident = require_resident(request)
    language = request[PAGE].language
    async with request.app[appkeys.DATABASE].read() as session:
        overview = await twin_overview(session, resident, language)
        contacts = await contact_views.standings_for(session, resident)
    context = {
        "overview": overview,
        "contacts": contacts,
        "k_anonymity": request.app[appkeys.CONFIG].matching.k_anonymity,
    }
    return await render(request, "twin/index.html", context)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/twin", twin, name="twin")
