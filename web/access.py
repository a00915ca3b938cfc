"""Who may open a page: pages of one's own account need a logged-in resident."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from node.accounts import accounts
from node.models import Resident
from node.runtime.db import UnitOfWork
from web.keys import PAGE


def current_resident(request: web.Request) -> Resident | None:
    return request[PAGE].resident


def require_resident(request: web.Request) -> Resident:
    """The logged-in resident; anyone else is sent to the login page and back here."""
    resident = current_resident(request)
    if resident is None:
        target = request.path_qs if request.method == "GET" else request.path
        raise web.HTTPSeeOther("/login?" + urlencode({"next": target[:500]}))
    return resident


async def resident_in(session: UnitOfWork, resident: Resident) -> Resident:
    """The logged-in resident loaded in ``session`` (the page's copy belongs to another
    transaction); an account deleted meanwhile is sent to the login page."""
    found = await accounts.get_resident(session, resident.id)
    if found is None:
        raise web.HTTPSeeOther("/login")
    return found
