"""Who may open a page: pages of one's own account need a logged-in resident."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from node.models import Resident

from .keys import PAGE


def current_resident(request: web.Request) -> Resident | None:
    return request[PAGE].resident


def require_resident(request: web.Request) -> Resident:
    """The logged-in resident; anyone else is sent to the login page and back here."""
    resident = current_resident(request)
    if resident is None:
        target = request.path_qs if request.method == "GET" else request.path
        raise web.HTTPSeeOther("/login?" + urlencode({"next": target[:500]}))
    return resident
