"""Attaching the visitor's session (and account) to every page request.

The session row is looked up by the hash of the cookie token; a token that names no
live session is simply ignored (and the cookie dropped), never an error. A new
cookie is sent only when the session changed: opened for a first-time visitor,
replaced at login, ended at logout.

The cookie is HttpOnly and SameSite=Lax; when the node's public URL is https it is
also Secure and carries the ``__Host-`` prefix, which forbids a Domain attribute
so that no other host of the city's domain can set or read it.
"""

from __future__ import annotations

from aiohttp import web

from node.accounts import accounts
from node.accounts import sessions as session_service
from node.models import utcnow
from node.runtime import appkeys
from node.runtime.config import Config
from web import keys
from web.i18n import negotiate
from web.routing import Handler, is_page


def cookie_name(config: Config) -> str:
    # Nodes on one host (a test, a demo) must not overwrite each other's cookie:
    # cookies ignore ports, so the node's slug is part of the name.
    base = f"zw-session-{config.node.slug}"
    return f"__Host-{base}" if config.secure else base


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not is_page(request):
        return await handler(request)
    app = request.app
    config = app[appkeys.CONFIG]
    catalogues = app[appkeys.CATALOGUES]
    token = request.cookies.get(cookie_name(config), "")
    login_session = resident = None
    if token:
        db = app[appkeys.DATABASE]
        async with db.read() as session:
            login_session = await session_service.peek_session(session, token)
            if login_session is not None and session_service.needs_write(
                login_session, config.sessions, utcnow()
            ):
                login_session = None
                async with db.write() as writing:
                    login_session = await session_service.find_session(
                        writing, token, config.sessions
                    )
            if login_session is not None and login_session.resident_id is not None:
                resident = await accounts.get_resident(session, login_session.resident_id)
    language = negotiate(
        login_session,
        resident,
        request.headers.get("Accept-Language", ""),
        config.node.default_language,
    )
    state = keys.PageState(
        language=language,
        translator=catalogues.get(language),
        login_session=login_session,
        resident=resident,
        drop_cookie=bool(token) and login_session is None,
    )
    request[keys.PAGE] = state
    response = await handler(request)
    apply_cookie(response, config, state)
    return response


def apply_cookie(response: web.StreamResponse, config: Config, state: keys.PageState) -> None:
    name = cookie_name(config)
    if state.new_token:
        response.set_cookie(
            name,
            state.new_token,
            path="/",
            httponly=True,
            samesite="Lax",
            secure=config.secure,
        )
    elif state.drop_cookie:
        response.del_cookie(name, path="/", secure=config.secure, httponly=True, samesite="Lax")
