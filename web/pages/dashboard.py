"""The resident's start page: where the twin search stands, said honestly."""

from __future__ import annotations

from aiohttp import web

from node.matches.dashboard import dashboard_state
from node.runtime import appkeys
from web.rendering import render
from web.routing import page
from web.visits.access import require_resident, resident_in


@page
async def dashboard(request: web.Request) -> web.StreamResponse:
    resident = require_resident(request)
    async with request.app[appkeys.DATABASE].read() as session:
        attached = await resident_in(session, resident)
        state = await dashboard_state(session, attached)
    return await render(
        request, "dashboard/index.html", {"state": state, "welcome": "welcome" in request.query}
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/dashboard", dashboard, name="dashboard")
