"""Attaching the visitor's session (and account) to every page request.

Two cookies: the session cookie of someone logged in, whose row is looked up by the
hash of its token, and the visitor cookie of someone who is not (a signed form
token and language choice, no row at all; see web/visitor.py). A token that names
no live session is simply ignored (and the cookie dropped), never an error. A
cookie is sent only when it changed: the visitor cookie when a form is first shown
or the language is chosen, the session cookie at login; both go at logout.

A page view of someone logged in reads its session, account and notice count in one
reading unit of work and writes nothing: the session's ``last_seen_at`` is touched
at most once a minute (``node.accounts.sessions.TOUCH_INTERVAL``), so page views
never queue behind each other or behind background writes for the write lock.

Both cookies are HttpOnly and SameSite=Lax; when the node's public URL is https
they are also Secure and carry the ``__Host-`` prefix, which forbids a Domain
attribute so that no other host of the city's domain can set or read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web

from node.accounts import sessions as session_service
from node.contacts import notices
from node.contacts.notices import Unseen
from node.models import LoginSession, Resident, utcnow
from node.runtime import appkeys
from node.runtime.config import Config
from node.runtime.db import Database
from web import keys
from web.i18n import negotiate
from web.routing import Handler, is_page
from web.visits.visitor import seal, unseal

SHOWING = frozenset({"GET", "HEAD"})
"""Methods whose answer is usually a page with the frame (and its notice count)."""


def cookie_name(config: Config, kind: str = "session") -> str:
    # Nodes on one host (a test, a demo) must not overwrite each other's cookie:
    # cookies ignore ports, so the node's slug is part of the name.
    base = f"zw-{kind}-{config.node.slug}"
    return f"__Host-{base}" if config.secure else base


def visitor_cookie_name(config: Config) -> str:
    return cookie_name(config, "visitor")


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not is_page(request):
        return await handler(request)
    app = request.app
    config = app[appkeys.CONFIG]
    catalogues = app[appkeys.CATALOGUES]
    token = request.cookies.get(cookie_name(config), "")
    found = await _logged_in(app[appkeys.DATABASE], config, token, request.method)
    login_session, resident = found.login_session, found.resident
    visitor = None
    if login_session is None:
        visitor = unseal(
            request.cookies.get(visitor_cookie_name(config), ""),
            app[keys.VISITOR_KEY],
            now=utcnow(),
            max_age=timedelta(hours=config.sessions.absolute_timeout_hours),
        )
    chosen = login_session.language if login_session else visitor.language if visitor else None
    language = negotiate(
        chosen,
        resident,
        request.headers.get("Accept-Language", ""),
        config.node.default_language,
    )
    state = keys.PageState(
        language=language,
        translator=catalogues.get(language),
        login_session=login_session,
        resident=resident,
        visitor=visitor,
        drop_cookie=bool(token) and login_session is None,
        unseen=found.unseen,
        unseen_read=found.unseen_read,
    )
    request[keys.PAGE] = state
    response = await handler(request)
    apply_cookie(response, config, state, app[keys.VISITOR_KEY])
    return response


@dataclass(frozen=True, slots=True)
class _Found:
    login_session: LoginSession | None = None
    resident: Resident | None = None
    unseen: Unseen | None = None
    unseen_read: bool = False


async def _logged_in(db: Database, config: Config, token: str, method: str) -> _Found:
    """The live session a cookie names, its resident and (for a page that will be
    shown) the resident's unseen notices: one reading unit of work. Only a session
    due for its touch or past its timeouts is written, in a unit of its own."""
    if not token:
        return _Found()
    async with db.read() as session:
        visit = await session_service.peek_visit(session, token)
        if visit is None:
            return _Found()
        login_session, resident = visit
        stale = session_service.needs_write(login_session, config.sessions, utcnow())
        shown = method in SHOWING and not stale
        unseen = await notices.unseen(session, resident.id) if shown else None
    if stale:
        async with db.write() as writing:
            touched = await session_service.find_session(writing, token, config.sessions)
        if touched is None:
            return _Found()
        login_session = touched
    return _Found(login_session, resident, unseen, unseen_read=shown)


def apply_cookie(
    response: web.StreamResponse, config: Config, state: keys.PageState, visitor_key: bytes
) -> None:
    name, visitor_name = cookie_name(config), visitor_cookie_name(config)
    if state.new_token:
        _set_cookie(response, config, name, state.new_token)
    elif state.drop_cookie:
        _drop_cookie(response, config, name)
    if state.login_session is not None and state.new_token:
        _drop_cookie(response, config, visitor_name)  # logged in: the session carries it all
    elif state.visitor is not None and state.visitor_changed:
        _set_cookie(response, config, visitor_name, seal(state.visitor, visitor_key))


def _set_cookie(response: web.StreamResponse, config: Config, name: str, value: str) -> None:
    response.set_cookie(name, value, path="/", httponly=True, samesite="Lax", secure=config.secure)


def _drop_cookie(response: web.StreamResponse, config: Config, name: str) -> None:
    response.del_cookie(name, path="/", secure=config.secure, httponly=True, samesite="Lax")
