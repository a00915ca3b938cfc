"""Register, confirm the e-mail address, log in and out, reset a forgotten password.

These pages must not reveal whether an address is registered: for a known and an
unknown address they answer with the same status and the same page. Mails are sent
after the transaction commits (see node.services.accounts).
"""

from __future__ import annotations

from aiohttp import web

from node.accounts import accounts, limits, tokens
from node.accounts import sessions as session_service
from node.models import utcnow
from node.profiles import profiles
from node.runtime import appkeys
from web.forms.accounts import (
    LoginForm,
    NewPasswordForm,
    RegisterForm,
    ResetRequestForm,
    password_message,
    safe_next,
)
from web.forms.base import text
from web.keys import PAGE, PageState
from web.pages import two_factor
from web.rendering import redirect, render
from web.routing import page
from web.throttling import TOO_MANY, client_of, retry_after, too_many
from web.visits.access import current_resident


def kinds(state: PageState, minimum_age: int) -> list[tuple[str, str, str]]:
    """The kinds of participant with label and explanation, for the radio group."""
    _ = state.translator.gettext
    return [
        (
            "person",
            _("Myself"),
            _("You take part as an individual, from the age of %(age)s.") % {"age": minimum_age},
        ),
        ("family", _("A family"), _("A parent holds the account for the family.")),
        ("club", _("A club or association"), _("A club officer holds the account.")),
        ("school_class", _("A school class"), _("The teacher holds the account for the class.")),
    ]


async def _register_page(
    request: web.Request, form: RegisterForm, status: int = 200
) -> web.Response:
    state = request[PAGE]
    config = request.app[appkeys.CONFIG]
    return await render(
        request,
        "accounts/register.html",
        {
            "form": form,
            "kinds": kinds(state, config.node.minimum_age),
            "minimum_age": config.node.minimum_age,
            "closed": not config.node.registration_open,
        },
        status=status,
    )


@page
async def register_form(request: web.Request) -> web.StreamResponse:
    if current_resident(request):
        return redirect("/dashboard")
    return await _register_page(request, RegisterForm(request[PAGE].translator))


@page
async def register(request: web.Request) -> web.StreamResponse:
    state = request[PAGE]
    config = request.app[appkeys.CONFIG]
    if not config.node.registration_open:
        return await _register_page(request, RegisterForm(state.translator), status=403)
    form = RegisterForm(state.translator).parse(await request.post(), config)
    if not form.valid:
        return await _register_page(request, form, status=400)
    mailer = request.app[appkeys.MAILER]
    db = request.app[appkeys.DATABASE]
    async with db.write() as session:
        until = await limits.take_request(session, config.limits, client_of(request), utcnow())
    if until is not None:
        return await too_many(request, until)
    await accounts.register(db, mailer, form.registration(state.language))
    return await render(
        request, "accounts/check_mail.html", {"email": form.values["email"], "purpose": "verify"}
    )


@page
async def verify_form(request: web.Request) -> web.StreamResponse:
    """Show a confirm button; the GET itself changes nothing (mail scanners open links)."""
    token = request.query.get("token", "")
    async with request.app[appkeys.DATABASE].read() as session:
        valid = await accounts.link_is_valid(session, token, tokens.VERIFY_EMAIL)
    if not valid:
        return await _invalid_link(request, "verify")
    return await render(request, "accounts/verify.html", {"token": token})


@page
async def verify(request: web.Request) -> web.StreamResponse:
    token = text(await request.post(), "token")
    async with request.app[appkeys.DATABASE].write() as session:
        resident = await accounts.verify_email(session, token)
    if resident is None:
        return await _invalid_link(request, "verify")
    return await render(request, "accounts/verified.html")


async def _invalid_link(request: web.Request, purpose: str) -> web.Response:
    return await render(request, "accounts/link_invalid.html", {"purpose": purpose}, status=400)


async def _login_page(
    request: web.Request, form: LoginForm, status: int = 200, notice: str | None = None
) -> web.Response:
    return await render(
        request, "accounts/login.html", {"form": form, "notice": notice}, status=status
    )


@page
async def login_form(request: web.Request) -> web.StreamResponse:
    if current_resident(request):
        return redirect("/dashboard")
    state = request[PAGE]
    form = LoginForm(state.translator, {"next": safe_next(request.query.get("next", ""))})
    return await _login_page(request, form)


@page
async def login(request: web.Request) -> web.StreamResponse:
    state = request[PAGE]
    _ = state.translator.gettext
    form = LoginForm(state.translator).parse(await request.post())
    if not form.valid:
        return await _login_page(request, form, status=400)
    mailer = request.app[appkeys.MAILER]
    db = request.app[appkeys.DATABASE]
    result = await accounts.authenticate(
        db, mailer, form.values["email"], form.password, client=client_of(request)
    )
    completed = False
    if result.status == "ok" and result.resident is not None:
        pending = await two_factor.second_step(request, result.resident, form.values["next"])
        if pending is not None:
            return pending
        async with db.write() as session:
            opened = await session_service.rotate_session(
                session,
                state.login_session,
                result.resident.id,
                language=state.visitor.language if state.visitor else None,
            )
            opened.row.device = two_factor.device_of(request)
            profile = await profiles.get_profile(session, result.resident)
            completed = bool(profile and profile.completed)
    if result.status == "wait" and result.locked_until is not None:
        seconds = retry_after(result.locked_until)
        form.error(
            "password",
            _(
                "Too many attempts for this address or from your network. For your "
                "protection, please wait %(seconds)s seconds, then try again."
            )
            % {"seconds": seconds},
        )
        response = await _login_page(request, form, status=TOO_MANY)
        response.headers["Retry-After"] = str(seconds)
        return response
    if result.status == "failed":
        form.error("password", _("The e-mail address or the password is not right."))
        return await _login_page(request, form, status=400)
    if result.status == "unverified":
        form.error(
            "email",
            _(
                "Please confirm your e-mail address first. We have just sent you a new "
                "link; open it, then log in."
            ),
        )
        return await _login_page(request, form, status=400)
    state.login_session = opened.row
    state.new_token = opened.token
    state.resident = result.resident
    if not completed:
        return redirect("/profile/wizard")
    return redirect(form.values["next"] or "/dashboard")


@page
async def logout(request: web.Request) -> web.StreamResponse:
    state = request[PAGE]
    if state.login_session is not None:
        async with request.app[appkeys.DATABASE].write() as session:
            await session_service.destroy_session(session, state.login_session)
    state.login_session = None
    state.resident = None
    state.drop_cookie = True
    return redirect("/?logged_out=1")


@page
async def forgotten_form(request: web.Request) -> web.StreamResponse:
    form = ResetRequestForm(request[PAGE].translator)
    return await render(request, "accounts/forgotten.html", {"form": form})


@page
async def forgotten(request: web.Request) -> web.StreamResponse:
    state = request[PAGE]
    form = ResetRequestForm(state.translator).parse(await request.post())
    if not form.valid:
        return await render(request, "accounts/forgotten.html", {"form": form}, status=400)
    mailer = request.app[appkeys.MAILER]
    config = request.app[appkeys.CONFIG]
    async with request.app[appkeys.DATABASE].write() as session:
        until = await limits.take_request(session, config.limits, client_of(request), utcnow())
        if until is None:
            await accounts.request_password_reset(session, mailer, form.values["email"])
    if until is not None:
        return await too_many(request, until)
    return await render(
        request, "accounts/check_mail.html", {"email": form.values["email"], "purpose": "reset"}
    )


@page
async def reset_form(request: web.Request) -> web.StreamResponse:
    token = request.query.get("token", "")
    async with request.app[appkeys.DATABASE].write() as session:
        valid = await accounts.link_is_valid(session, token, tokens.PASSWORD_RESET)
    if not valid:
        return await _invalid_link(request, "reset")
    form = NewPasswordForm(request[PAGE].translator, {"token": token})
    return await render(request, "accounts/reset.html", {"form": form})


@page
async def reset(request: web.Request) -> web.StreamResponse:
    state = request[PAGE]
    form = NewPasswordForm(state.translator).parse(await request.post())
    if not form.valid:
        return await render(request, "accounts/reset.html", {"form": form}, status=400)
    mailer = request.app[appkeys.MAILER]
    db = request.app[appkeys.DATABASE]
    result = await accounts.reset_password(db, mailer, form.token, form.password)
    if result.status == "invalid_link":
        return await _invalid_link(request, "reset")
    if result.status == "weak":
        for code in result.problems:
            form.error("password", password_message(state.translator, code))
        return await render(request, "accounts/reset.html", {"form": form}, status=400)
    changed_id = result.resident.id if result.resident is not None else None
    if state.resident is not None and state.resident.id == changed_id:
        # Their own session ended with all the others.
        state.login_session = None
        state.resident = None
        state.drop_cookie = True
    return await render(request, "accounts/password_changed.html")


def add_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/register", register_form, name="register")
    router.add_post("/register", register)
    router.add_get(accounts.VERIFY_PATH, verify_form, name="verify")
    router.add_post(accounts.VERIFY_PATH, verify)
    router.add_get(accounts.LOGIN_PATH, login_form, name="login")
    router.add_post(accounts.LOGIN_PATH, login)
    router.add_post("/logout", logout, name="logout")
    router.add_get(accounts.RESET_REQUEST_PATH, forgotten_form, name="password_forgotten")
    router.add_post(accounts.RESET_REQUEST_PATH, forgotten)
    router.add_get(accounts.RESET_PATH, reset_form, name="password_reset")
    router.add_post(accounts.RESET_PATH, reset)
