"""Settings: language, pause, notifications, data export and account deletion."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from node.accounts import accounts
from node.accounts import export as data_export
from node.accounts import sessions as session_service
from node.contacts import notices
from node.models import utcnow
from node.profiles import profiles
from node.runtime import appkeys
from node.vectors import publication as vector_publication
from node.vectors.appkeys import PUBLISHER
from web.forms.settings import NOTIFICATION_SWITCHES, DeleteAccountForm, PreferencesForm
from web.i18n import NATIVE_NAMES
from web.keys import PAGE
from web.pages.contacts import blocked_context
from web.rendering import redirect, render
from web.routing import page
from web.visits.access import require_resident, resident_in

if TYPE_CHECKING:
    pass


async def _settings_page(
    request: web.Request,
    *,
    preferences: PreferencesForm | None = None,
    delete: DeleteAccountForm | None = None,
    status: int = 200,
) -> web.Response:
    state = request[PAGE]
    resident = require_resident(request)
    if preferences is None:
        async with request.app[appkeys.DATABASE].read() as session:
            profile = await profiles.get_profile(session, resident)
        preferences = PreferencesForm(
            state.translator,
            {
                "language": resident.language or state.language,
                **{name: getattr(resident, name) for name in NOTIFICATION_SWITCHES},
                "paused": bool(profile and profile.paused),
            },
        )
    context: dict[str, Any] = {
        "preferences": preferences,
        "delete": delete or DeleteAccountForm(state.translator),
        "languages": list(NATIVE_NAMES.items()),
        "saved": "saved" in request.query,
        "pseudonym_reset": "pseudonym" in request.query,
    }
    context.update(await blocked_context(request))
    return await render(request, "settings/index.html", context, status=status)


@page
async def settings(request: web.Request) -> web.StreamResponse:
    require_resident(request)
    return await _settings_page(request)


@page
async def save_preferences(request: web.Request) -> web.StreamResponse:
    state = request[PAGE]
    resident = require_resident(request)
    form = PreferencesForm(state.translator).parse(await request.post())
    if not form.valid:
        return await _settings_page(request, preferences=form, status=400)
    async with request.app[appkeys.DATABASE].write() as session:
        attached = await resident_in(session, resident)
        await accounts.set_language(session, attached, form.values["language"])
        notices.set_preferences(
            attached,
            requests=form.values["notify_requests"],
            acceptances=form.values["notify_acceptances"],
            messages=form.values["notify_messages"],
        )
        await profiles.set_paused(session, attached, form.values["paused"], request.app[PUBLISHER])
        if state.login_session is not None:
            await session_service.set_session_language(
                session, state.login_session, form.values["language"]
            )
    return redirect("/settings?saved=1")


@page
async def reset_pseudonym(request: web.Request) -> web.StreamResponse:
    """A fresh anonymous name towards every partner city; the old one is withdrawn."""
    resident = require_resident(request)
    async with request.app[appkeys.DATABASE].write() as session:
        await vector_publication.reset_pseudonym(
            session, await resident_in(session, resident), request.app[PUBLISHER]
        )
    return redirect("/settings?pseudonym=reset")


@page
async def export(request: web.Request) -> web.StreamResponse:
    """All of the resident's data as a JSON download (reading only: a GET is fine)."""
    resident = require_resident(request)
    config = request.app[appkeys.CONFIG]
    async with request.app[appkeys.DATABASE].read() as session:
        document = await data_export.export_data(
            session,
            await resident_in(session, resident),
            config,
            secret=request.app[appkeys.KEYS].secret,
        )
    document["portal"] = {
        "name": config.branding.portal_name,
        "city": config.node.city,
        "url": config.node.base_url,
    }
    name = f"{config.branding.portal_name.lower()}-{utcnow():%Y%m%d}.json"
    return web.Response(
        text=json.dumps(document, ensure_ascii=False, indent=2),
        content_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@page
async def delete_account(request: web.Request) -> web.StreamResponse:
    state = request[PAGE]
    resident = require_resident(request)
    form = DeleteAccountForm(state.translator).parse(await request.post())
    if not form.valid:
        return await _settings_page(request, delete=form, status=400)
    if not await accounts.password_matches(resident, form.password):
        form.wrong_password()
        return await _settings_page(request, delete=form, status=400)
    async with request.app[appkeys.DATABASE].write() as session:
        await accounts.delete_account(
            session, await resident_in(session, resident), request.app[PUBLISHER]
        )
    state.login_session = None
    state.resident = None
    state.drop_cookie = True
    return await render(request, "settings/deleted.html")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/settings", settings, name="settings")
    app.router.add_post("/settings/preferences", save_preferences)
    app.router.add_post("/settings/pseudonym", reset_pseudonym)
    app.router.add_get("/settings/export", export, name="settings_export")
    app.router.add_post("/settings/delete", delete_account)
