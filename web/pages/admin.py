"""The admin area: peers and their federation state, the delivery queue, counts and
reports. Only residents with the admin role (``zwilling admin grant``) get in; every
other logged-in resident gets 403. Every action is a POST with the CSRF token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from node.admin import overview as admin
from node.contacts import reports
from node.models import Resident
from node.runtime import appkeys
from node.vectors.appkeys import PUBLISHER
from node.vectors.privacy_report import privacy_report
from web.pages.contacts import REASON_LABELS
from web.rendering import redirect, render
from web.routing import page
from web.validators import path_id
from web.visits.access import require_resident, resident_in

if TYPE_CHECKING:
    from node.runtime.db import UnitOfWork

QUEUE_PATH = "/admin/queue"
REPORTS_PATH = "/admin/reports"
PRIVACY_PATH = "/admin/privacy"


def require_admin(request: web.Request) -> Resident:
    resident = require_resident(request)
    if not admin.is_admin(resident):
        raise web.HTTPForbidden()
    return resident


def _row_id(request: web.Request, name: str) -> int:
    return path_id(request, name)


@page
async def overview(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    async with request.app[appkeys.DATABASE].read() as session:
        counts = await admin.counts(session)
        peers = await admin.peer_statuses(session)
    return await render(request, "admin/index.html", {"counts": counts, "peers": peers})


@page
async def privacy(request: web.Request) -> web.StreamResponse:
    """The privacy report of ``zwilling privacy report``, for admins who do not use the
    command line. It counts the whole published population, so it is a page of its
    own, computed when asked for, not part of the overview."""
    require_admin(request)
    k = request.app[appkeys.CONFIG].matching.k_anonymity
    async with request.app[appkeys.DATABASE].read() as session:
        report = await privacy_report(session, k)
        names = {item.peer.actor_url: item.peer.name for item in await admin.peer_statuses(session)}
    return await render(request, "admin/privacy.html", {"report": report, "names": names})


@page
async def queue(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    state = request.query.get("state", "pending")
    if state not in admin.QUEUE_STATES:
        state = "pending"
    async with request.app[appkeys.DATABASE].read() as session:
        rows = await admin.queue(session, state)
    context: dict[str, Any] = {
        "state": state,
        "states": admin.QUEUE_STATES,
        "rows": rows,
        "done": request.query.get("done") in ("retried", "discarded"),
    }
    return await render(request, "admin/queue.html", context)


async def _queue_action(
    request: web.Request, action: Callable[[UnitOfWork, int], Awaitable[bool]], done: str
) -> web.StreamResponse:
    require_admin(request)
    row_id = _row_id(request, "row_id")
    state = (await request.post()).get("state", "pending")
    async with request.app[appkeys.DATABASE].write() as session:
        changed = await action(session, row_id)
    back = state if state in admin.QUEUE_STATES else "pending"
    return redirect(f"{QUEUE_PATH}?state={back}&done={done if changed else ''}")


@page
async def retry(request: web.Request) -> web.StreamResponse:
    return await _queue_action(request, admin.retry, "retried")


@page
async def discard(request: web.Request) -> web.StreamResponse:
    return await _queue_action(request, admin.discard, "discarded")


@page
async def report_list(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    state = request.query.get("state", "open")
    if state not in reports.STATES:
        state = "open"
    async with request.app[appkeys.DATABASE].read() as session:
        rows = await reports.reports(session, state)
    context: dict[str, Any] = {
        "state": state,
        "states": reports.STATES,
        "reports": rows,
        "reasons": REASON_LABELS,
    }
    return await render(request, "admin/reports.html", context)


@page
async def report_detail(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    report_id = _row_id(request, "report_id")
    async with request.app[appkeys.DATABASE].read() as session:
        found = await reports.report(session, report_id)
        if found is None:
            raise web.HTTPNotFound()
        subject = await session.get(Resident, found.subject_id) if found.subject_id else None
        reporter = await session.get(Resident, found.reporter_id) if found.reporter_id else None
    context: dict[str, Any] = {
        "report": found,
        "subject": subject,
        "reporter": reporter,
        "reasons": REASON_LABELS,
    }
    return await render(request, "admin/report.html", context)


async def _report_action(
    request: web.Request,
    action: Callable[[UnitOfWork, Resident, int], Awaitable[object]],
) -> web.StreamResponse:
    resident = require_admin(request)
    report_id = _row_id(request, "report_id")
    async with request.app[appkeys.DATABASE].write() as session:
        await action(session, await resident_in(session, resident), report_id)
    return redirect(f"{REPORTS_PATH}/{report_id}")


@page
async def dismiss(request: web.Request) -> web.StreamResponse:
    return await _report_action(request, reports.dismiss)


@page
async def suspend(request: web.Request) -> web.StreamResponse:
    publisher = request.app[PUBLISHER]

    async def suspend_subject(session: UnitOfWork, by: Resident, report_id: int) -> object:
        return await admin.suspend_for_report(session, by, report_id, publisher)

    return await _report_action(request, suspend_subject)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/admin", overview, name="admin")
    app.router.add_get(PRIVACY_PATH, privacy, name="admin_privacy")
    app.router.add_get(QUEUE_PATH, queue, name="admin_queue")
    app.router.add_post(QUEUE_PATH + "/{row_id}/retry", retry)
    app.router.add_post(QUEUE_PATH + "/{row_id}/discard", discard)
    app.router.add_get(REPORTS_PATH, report_list, name="admin_reports")
    app.router.add_get(REPORTS_PATH + "/{report_id}", report_detail)
    app.router.add_post(REPORTS_PATH + "/{report_id}/dismiss", dismiss)
    app.router.add_post(REPORTS_PATH + "/{report_id}/suspend", suspend)
