"""Account security: change the password, see and end sessions, and the way to
two-factor sign-in (its pages are in web/pages/two_factor.py)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.accounts import devices, security, two_factor
from node.runtime import appkeys
from node.runtime.i18n import Translator
from web.forms.security import ChangePasswordForm
from web.keys import PAGE
from web.rendering import redirect, render
from web.routing import page
from web.throttling import TOO_MANY, client_of, retry_after
from web.visits.access import require_resident

SECURITY_PATH = "/settings/security"
NOTICES = ("password", "ended", "others", "enabled", "disabled", "codes")


def describe_device(t: Translator, stored: str | None) -> str:
    """A session's device label in the reader's language ("Firefox on Linux")."""
    browser, system = devices.parts(stored)
    return t.gettext("%(browser)s on %(system)s") % {
        "browser": t.gettext("an unknown browser") if browser == devices.UNKNOWN else browser,
        "system": t.gettext("an unknown system") if system == devices.UNKNOWN else system,
    }


def session_handle(request: web.Request) -> str:
    """The session named in the path: 404 unless it has the form of a handle."""
    raw = request.match_info.get("handle", "")
    if not security.HANDLE.fullmatch(raw):
        raise web.HTTPNotFound()
    return raw


async def _security_page(
    request: web.Request, password: ChangePasswordForm | None = None, status: int = 200
) -> web.Response:
    state = request[PAGE]
    resident = require_resident(request)
    config = request.app[appkeys.CONFIG]
    current_id = state.login_session.id if state.login_session else None
    async with request.app[appkeys.DATABASE].read() as session:
        listed = await security.live_sessions(session, resident.id, current_id, config.sessions)
        enabled = await two_factor.is_enabled(session, resident.id)
        codes_left = await two_factor.recovery_codes_left(session, resident.id)
    notice = request.query.get("done", "")
    context: dict[str, Any] = {
        "password": password or ChangePasswordForm(state.translator),
        "sessions": [(item, describe_device(state.translator, item.device)) for item in listed],
        "two_factor": enabled,
        "codes_left": codes_left,
        "notice": notice if notice in NOTICES else "",
    }
    return await render(request, "security/index.html", context, status=status)


@page
async def overview(request: web.Request) -> web.StreamResponse:
    require_resident(request)
    return await _security_page(request)


@page
async def change_password(request: web.Request) -> web.StreamResponse:
    state = request[PAGE]
    resident = require_resident(request)
    form = ChangePasswordForm(state.translator).parse(await request.post())
    if not form.valid or state.login_session is None:
        return await _security_page(request, form, status=400)
    result = await security.change_password(
        request.app[appkeys.DATABASE],
        request.app[appkeys.MAILER],
        resident,
        state.login_session,
        form.current,
        form.new,
        client=client_of(request),
    )
    if result.status == "wait" and result.wait_until is not None:
        seconds = retry_after(result.wait_until)
        form.error("current_password", wait_message(state.translator, seconds))
        response = await _security_page(request, form, status=TOO_MANY)
        response.headers["Retry-After"] = str(seconds)
        return response
    if result.status == "weak":
        form.weak(result.problems)
        return await _security_page(request, form, status=400)
    if result.status != "ok" or result.opened is None:
        form.wrong_password()
        return await _security_page(request, form, status=400)
    state.login_session = result.opened.row
    state.new_token = result.opened.token
    return redirect(f"{SECURITY_PATH}?done=password")


def wait_message(t: Translator, seconds: int) -> str:
    return t.gettext(
        "Too many attempts. For your protection, please wait %(seconds)s seconds, then try again."
    ) % {"seconds": seconds}


@page
async def end_session(request: web.Request) -> web.StreamResponse:
    state = request[PAGE]
    resident = require_resident(request)
    handle = session_handle(request)
    if state.login_session is None:
        raise web.HTTPNotFound()
    async with request.app[appkeys.DATABASE].write() as session:
        ended = await security.end_session(session, resident.id, handle, state.login_session.id)
    if not ended:
        raise web.HTTPNotFound()
    return redirect(f"{SECURITY_PATH}?done=ended")


@page
async def end_other_sessions(request: web.Request) -> web.StreamResponse:
    state = request[PAGE]
    resident = require_resident(request)
    if state.login_session is not None:
        async with request.app[appkeys.DATABASE].write() as session:
            await security.end_other_sessions(session, resident.id, state.login_session.id)
    return redirect(f"{SECURITY_PATH}?done=others")


def add_routes(app: web.Application) -> None:
    router = app.router
    router.add_get(SECURITY_PATH, overview, name="security")
    router.add_post(f"{SECURITY_PATH}/password", change_password)
    router.add_post(f"{SECURITY_PATH}/sessions/others/end", end_other_sessions)
    router.add_post(f"{SECURITY_PATH}/sessions/{{handle}}/end", end_session)
