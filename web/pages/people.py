"""Find people: look through the partner city's anonymous profiles oneself, beyond the
ten suggestions, filtered by interest, language, age group and line of work.

Only profiles that pass the resident's gates are listed, ranked and explained like the
suggestions, twenty to a page; each has the same "Yes, I'd like contact" button, which
posts to the contact request the twin page uses (and which checks the gates again).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.contacts import views as contact_views
from node.matches.appkeys import MATCHING
from node.people.browse import PeopleDirectory, people_page
from node.runtime import appkeys
from web.forms.people import PeopleQuery, options
from web.keys import PAGE
from web.rendering import render
from web.routing import page
from web.visits.access import require_resident, resident_in

PEOPLE = web.AppKey("web_people_directory", PeopleDirectory)

LISTED = frozenset({"none", "pending", "mutual"})
"""Pairs still listed: not asked yet, waiting, or in contact. An ended, declined or
blocked pair cannot be asked again, so it is left out."""


@page
async def people(request: web.Request) -> web.StreamResponse:
    resident = require_resident(request)
    state = request[PAGE]
    query = PeopleQuery.parse(request.query)
    db = request.app[appkeys.DATABASE]
    async with db.read() as session:
        me = await resident_in(session, resident)
        contacts = await contact_views.standings_for(session, me)
    hidden = [actor for actor, known in contacts.items() if known.standing not in LISTED]
    found = await people_page(
        db,
        request.app[MATCHING],
        request.app[PEOPLE],
        me,
        state.language,
        filters=query.filters,
        page=query.page,
        city_id=query.city,
        hidden=hidden,
    )
    if found.city is not None and (len(found.cities) > 1 or query.city is not None):
        query.city = found.city.id  # the links to other pages name the city shown
    context: dict[str, Any] = {
        "found": found,
        "query": query,
        "filters": query.filters,
        "choices": options(state.translator),
        "contacts": contacts,
        "previous": query.address(found.page - 1) if found.page > 1 else None,
        "next": query.address(found.page + 1) if found.page < found.pages else None,
        "k_anonymity": request.app[appkeys.CONFIG].matching.k_anonymity,
    }
    return await render(request, "people/index.html", context)


async def _close(app: web.Application) -> None:
    await app[PEOPLE].close()


def add_routes(app: web.Application) -> None:
    app[PEOPLE] = PeopleDirectory()
    app.on_cleanup.append(_close)
    app.router.add_get("/people", people, name="people")
