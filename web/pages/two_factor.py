"""Two-factor sign-in: setting it up, the recovery codes, switching it off, and the
login's second step (``/login/code``).

The QR code is drawn by segno as SVG markup inside the page: paths and presentation
attributes only, no inline style or script, so the Content-Security-Policy holds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import segno
from aiohttp import web
from markupsafe import Markup

from node.accounts import accounts, challenges, devices, security, two_factor
from node.accounts.appkeys import TWO_FACTOR_SEAL
from node.models import LoginChallenge, Resident, utcnow
from node.profiles import profiles
from node.runtime import appkeys
from node.runtime.config import Config
from node.runtime.db import UnitOfWork
from web.forms.security import CodeForm, PasswordAndCodeForm
from web.keys import PAGE
from web.pages.security import SECURITY_PATH, wait_message
from web.rendering import redirect, render
from web.routing import page
from web.throttling import TOO_MANY, client_of, retry_after
from web.visits.access import TWO_FACTOR_SETUP, require_resident

TWO_FACTOR_PATH = TWO_FACTOR_SETUP
LOGIN_CODE_PATH = "/login/code"


def challenge_cookie(config: Config) -> str:
    base = f"zw-login-code-{config.node.slug}"
    return f"__Host-{base}" if config.secure else base


def device_of(request: web.Request) -> str:
    return devices.label(request.headers.get("User-Agent", ""))


def qr_svg(uri: str) -> Markup:
    """The QR code of ``uri`` as inline SVG (segno's output: numbers and fixed words)."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, border=4, light="#fff")
    return Markup(svg)  # noqa: S704 - generated markup, nothing typed by anyone


async def _setup_page(
    request: web.Request,
    *,
    failed: dict[str, CodeForm] | None = None,
    codes: list[str] | None = None,
    status: int = 200,
) -> web.Response:
    """The set-up page; ``failed`` holds a form to show again with its errors, under
    its name in the template (``form``, ``disable`` or ``regenerate``)."""
    state = request[PAGE]
    resident = require_resident(request)
    config = request.app[appkeys.CONFIG]
    db = request.app[appkeys.DATABASE]
    async with db.read() as session:
        enabled = await two_factor.is_enabled(session, resident.id)
        codes_left = await two_factor.recovery_codes_left(session, resident.id)
    secret = None
    if not enabled:
        async with db.write() as session:
            secret = await two_factor.pending_secret(
                session, request.app[TWO_FACTOR_SEAL], resident.id
            )
    context: dict[str, Any] = {
        "enabled": secret is None,
        "required": resident.role == "admin",
        "asked": "required" in request.query,
        "codes": codes,
        "codes_left": codes_left,
        "form": PasswordAndCodeForm(state.translator),
        "disable": PasswordAndCodeForm(state.translator),
        "regenerate": CodeForm(state.translator),
        **(failed or {}),
    }
    if secret is not None:
        uri = two_factor.provisioning_uri(secret, resident.email, config.branding.portal_name)
        context |= {"secret": two_factor.grouped(secret), "qr": qr_svg(uri)}
    return await render(request, "security/two_factor.html", context, status=status)


@page
async def setup(request: web.Request) -> web.StreamResponse:
    require_resident(request)
    return await _setup_page(request)


async def _password_refused(
    request: web.Request, resident: Resident, form: PasswordAndCodeForm, which: str
) -> web.Response | None:
    """The answer when the password in ``form`` is wrong or came too early."""
    config = request.app[appkeys.CONFIG]
    db = request.app[appkeys.DATABASE]
    checked = await security.confirm_password(
        db, config.limits, resident, form.password, client=client_of(request)
    )
    if checked.status == "ok":
        return None
    if checked.status == "wait" and checked.wait_until is not None:
        seconds = retry_after(checked.wait_until)
        form.error("password", wait_message(form.t, seconds))
        response = await _setup_page(request, status=TOO_MANY, failed={which: form})
        response.headers["Retry-After"] = str(seconds)
        return response
    form.wrong_password()
    return await _setup_page(request, status=400, failed={which: form})


@page
async def enable(request: web.Request) -> web.StreamResponse:
    state = request[PAGE]
    resident = require_resident(request)
    form = PasswordAndCodeForm(state.translator).parse(await request.post())
    if not form.valid or state.login_session is None:
        return await _setup_page(request, failed={"form": form}, status=400)
    refused = await _password_refused(request, resident, form, "form")
    if refused is not None:
        return refused
    now, opened = utcnow(), None
    async with request.app[appkeys.DATABASE].write() as session:
        codes = await two_factor.enable(
            session, request.app[TWO_FACTOR_SEAL], resident.id, form.code, now
        )
        if codes is not None:
            opened = await security.secure_session(
                session, resident.id, state.login_session.id, now
            )
    if codes is None:
        form.wrong_code()
        return await _setup_page(request, failed={"form": form}, status=400)
    if opened is not None:
        state.login_session, state.new_token = opened.row, opened.token
    return await _setup_page(request, codes=codes)


@page
async def disable(request: web.Request) -> web.StreamResponse:
    state = request[PAGE]
    resident = require_resident(request)
    form = PasswordAndCodeForm(state.translator).parse(await request.post())
    if not form.valid:
        return await _setup_page(request, failed={"disable": form}, status=400)
    refused = await _password_refused(request, resident, form, "disable")
    if refused is not None:
        return refused
    config = request.app[appkeys.CONFIG]
    async with request.app[appkeys.DATABASE].write() as session:
        checked = await two_factor.check_code(
            session, request.app[TWO_FACTOR_SEAL], resident.id, form.code, config.limits, utcnow()
        )
        if checked.status == "ok":
            await two_factor.disable(session, resident.id)
    if checked.status != "ok":
        return await _code_refused(request, form, checked, "disable")
    return redirect(f"{SECURITY_PATH}?done=disabled")


@page
async def regenerate(request: web.Request) -> web.StreamResponse:
    state = request[PAGE]
    resident = require_resident(request)
    form = CodeForm(state.translator).parse(await request.post())
    if not form.valid:
        return await _setup_page(request, failed={"regenerate": form}, status=400)
    config = request.app[appkeys.CONFIG]
    async with request.app[appkeys.DATABASE].write() as session:
        checked = await two_factor.check_code(
            session,
            request.app[TWO_FACTOR_SEAL],
            resident.id,
            form.code,
            config.limits,
            utcnow(),
            recovery=False,
        )
        codes = None
        if checked.status == "ok":
            codes = await two_factor.replace_recovery_codes(session, resident.id)
    if codes is None:
        return await _code_refused(request, form, checked, "regenerate")
    return await _setup_page(request, codes=codes)


async def _code_refused(
    request: web.Request, form: CodeForm, checked: two_factor.CodeCheck, which: str
) -> web.Response:
    if checked.status == "wait" and checked.wait_until is not None:
        seconds = retry_after(checked.wait_until)
        form.error("code", wait_message(form.t, seconds))
        response = await _setup_page(request, status=TOO_MANY, failed={which: form})
        response.headers["Retry-After"] = str(seconds)
        return response
    form.refused(checked.unreadable)
    return await _setup_page(request, status=400, failed={which: form})


async def second_step(
    request: web.Request, resident: Resident, next_path: str
) -> web.StreamResponse | None:
    """Called by the login after a correct password: for a resident with two-factor
    sign-in, a challenge and the way to the code page instead of a session."""
    async with request.app[appkeys.DATABASE].write() as session:
        if not await two_factor.is_enabled(session, resident.id):
            return None
        opened = await challenges.open_challenge(session, resident.id, next_path, utcnow())
    config = request.app[appkeys.CONFIG]
    response = redirect(LOGIN_CODE_PATH)
    response.set_cookie(
        challenge_cookie(config),
        opened.token,
        path="/",
        max_age=int(challenges.LIFETIME.total_seconds()),
        httponly=True,
        samesite="Strict",
        secure=config.secure,
    )
    return response


async def _code_page(request: web.Request, form: CodeForm, status: int = 200) -> web.Response:
    return await render(request, "security/login_code.html", {"form": form}, status=status)


@page
async def login_code_form(request: web.Request) -> web.StreamResponse:
    config = request.app[appkeys.CONFIG]
    token = request.cookies.get(challenge_cookie(config), "")
    async with request.app[appkeys.DATABASE].read() as session:
        challenge = await challenges.find_challenge(session, token, utcnow())
    if challenge is None:
        return redirect("/login")
    return await _code_page(request, CodeForm(request[PAGE].translator))


@page
async def login_code(request: web.Request) -> web.StreamResponse:
    state = request[PAGE]
    config = request.app[appkeys.CONFIG]
    form = CodeForm(state.translator).parse(await request.post())
    token = request.cookies.get(challenge_cookie(config), "")
    now = utcnow()
    async with request.app[appkeys.DATABASE].write() as session:
        challenge = await challenges.find_challenge(session, token, now)
        if challenge is None or not form.valid:
            checked = None
        else:
            checked = await two_factor.check_code(
                session,
                request.app[TWO_FACTOR_SEAL],
                challenge.resident_id,
                form.code,
                config.limits,
                now,
                client=client_of(request),
            )
        resident = (
            None
            if challenge is None
            else await accounts.get_resident(session, challenge.resident_id)
        )
        signed_in = None
        if checked is not None and checked.status == "ok" and challenge and resident:
            signed_in = await _sign_in(request, session, challenge, resident, now)
    if challenge is None:
        return redirect("/login")
    if checked is not None and checked.status == "wait" and checked.wait_until is not None:
        seconds = retry_after(checked.wait_until)
        form.error("code", wait_message(state.translator, seconds))
        response = await _code_page(request, form, status=TOO_MANY)
        response.headers["Retry-After"] = str(seconds)
        return response
    if signed_in is None:
        if form.valid:
            form.refused(checked is not None and checked.unreadable)
        return await _code_page(request, form, status=400)
    response = redirect(signed_in)
    response.del_cookie(
        challenge_cookie(config), path="/", secure=config.secure, httponly=True, samesite="Strict"
    )
    return response


async def _sign_in(
    request: web.Request,
    session: UnitOfWork,
    challenge: LoginChallenge,
    resident: Resident,
    now: datetime,
) -> str | None:
    """Turn a passed challenge into a session, as the login does; where to go next."""
    if resident.status != "active":
        return None
    state = request[PAGE]
    await challenges.close_challenge(session, challenge)
    opened = await security.open_resident_session(
        session,
        state.login_session,
        resident.id,
        device=device_of(request),
        language=state.visitor.language if state.visitor else None,
        second_factor_at=now,
    )
    profile = await profiles.get_profile(session, resident)
    state.login_session, state.new_token, state.resident = opened.row, opened.token, resident
    if not (profile and profile.completed):
        return "/profile/wizard"
    return challenge.next_path or "/dashboard"


def add_routes(app: web.Application) -> None:
    router = app.router
    router.add_get(TWO_FACTOR_PATH, setup, name="two_factor")
    router.add_post(f"{TWO_FACTOR_PATH}/enable", enable)
    router.add_post(f"{TWO_FACTOR_PATH}/disable", disable)
    router.add_post(f"{TWO_FACTOR_PATH}/recovery-codes", regenerate)
    router.add_get(LOGIN_CODE_PATH, login_code_form, name="login_code")
    router.add_post(LOGIN_CODE_PATH, login_code)
