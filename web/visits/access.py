"""Who may open a page: pages of one's own account need a logged-in resident, and the
admin area an admin whose session passed two-factor sign-in."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from node.accounts import accounts
from node.admin.overview import is_admin
from node.models import Resident
from node.runtime.db import UnitOfWork
from web.keys import PAGE

ADMIN_AREA = "/admin"
TWO_FACTOR_SETUP = "/settings/security/two-factor"


def current_resident(request: web.Request) -> Resident | None:
    return request[PAGE].resident


def require_resident(request: web.Request) -> Resident:
    """The logged-in resident; anyone else is sent to the login page and back here.

    In the admin area an admin also needs a session that passed two-factor sign-in
    (a stolen admin password alone must not open it); until then every admin page
    leads to the set-up page, which says why.
    """
    resident = current_resident(request)
    if resident is None:
        target = request.path_qs if request.method == "GET" else request.path
        raise web.HTTPSeeOther("/login?" + urlencode({"next": target[:500]}))
    if in_admin_area(request) and needs_second_factor(request, resident):
        raise web.HTTPSeeOther(TWO_FACTOR_SETUP + "?required=admin")
    return resident


def in_admin_area(request: web.Request) -> bool:
    return request.path == ADMIN_AREA or request.path.startswith(ADMIN_AREA + "/")


def needs_second_factor(request: web.Request, resident: Resident) -> bool:
    """An admin whose session has not passed two-factor sign-in."""
    login_session = request[PAGE].login_session
    passed = login_session is not None and login_session.second_factor_at is not None
    return is_admin(resident) and not passed


async def resident_in(session: UnitOfWork, resident: Resident) -> Resident:
    """The logged-in resident loaded in ``session`` (the page's copy belongs to another
    transaction); an account deleted meanwhile is sent to the login page.

    A unit that changes the account needs it; a page that only reads by the
    resident's id uses the page's copy (read with the session moments before) and
    saves the query."""
    found = await accounts.get_resident(session, resident.id)
    if found is None:
        raise web.HTTPSeeOther("/login")
    return found
