"""Contact requests and contacts: ask, answer yes or no, withdraw, block (after a page
that says what blocking does), unblock (from the settings), report.

Every action is a POST with the CSRF token and ends in a redirect (so reloading a
page never repeats an action); what went wrong is named by a short code in the
address and worded on the page in the visitor's language.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from node.accounts.limits import Action
from node.contacts import consent as contacts
from node.contacts import reports
from node.contacts import views as contact_views
from node.contacts.consent import ContactError
from node.contacts.notices import requests_seen, requests_unseen
from node.matches.appkeys import MATCHING
from node.models import Resident
from node.runtime import appkeys
from node.runtime.i18n import N_
from web.forms.base import text
from web.keys import PAGE
from web.notices import forget as forget_notices
from web.rendering import redirect, render
from web.routing import page
from web.throttling import count_action, too_many
from web.validators import local_target, path_id
from web.visits.access import require_resident, resident_in

if TYPE_CHECKING:
    from node.runtime.db import UnitOfWork

REQUESTS_PATH = "/contacts/requests"
SETTINGS_BLOCKED = "/settings#blocked-title"

# What a code in ``?problem=`` or ``?done=`` means, for the page to word.
PROBLEMS: dict[str, str] = {
    "unknown_profile": N_("This profile is no longer available."),
    "not_a_match": N_(
        "You can only ask for contact with a profile that fits yours (the same kind of "
        "profile and a language you can talk in)."
    ),
    "not_published": N_(
        "Your profile is not shared with the partner city (incomplete or paused), so you "
        "cannot ask for contact right now."
    ),
    "blocked": N_("You have blocked this person."),
    "not_blocked": N_("This person is not blocked (any more)."),
    "ended": N_("This contact has ended; it cannot be started again."),
    "not_requested": N_("There is no open request to answer."),
    "already_answered": N_("You have already answered this request."),
    "nothing_to_withdraw": N_("There is nothing to withdraw."),
    "not_found": N_("This contact does not exist."),
    "not_mutual": N_("Messages can only be sent while you are both in contact."),
    "empty": N_("Please write a message first."),
    "too_long": N_("The message is too long (at most 5,000 characters)."),
    "reason": N_("Please choose a reason."),
    "comment_too_long": N_("The comment is too long (at most 2,000 characters)."),
}
DONE: dict[str, str] = {
    "asked": N_("Your request has been sent. You will see here when it is answered."),
    "accepted": N_("You are now in contact. You can write to each other."),
    "declined": N_("You declined the request."),
    "withdrawn": N_("You withdrew. The contact has ended."),
    "blocked": N_(
        "You blocked this person. They cannot ask you for contact or write to you any more. "
        "You can lift the block in your settings."
    ),
    "unblocked": N_(
        "The block is lifted. The contact does not come back by itself: you can ask again "
        "from your twin page, if the profile is still suggested to you."
    ),
    "reported": N_("Thank you. The city's team will look at your report."),
}
REASON_LABELS: dict[str, str] = {
    "spam": N_("Spam or advertising"),
    "harassment": N_("Harassment or threats"),
    "inappropriate": N_("Inappropriate content"),
    "other": N_("Something else"),
}


def notices(request: web.Request) -> dict[str, str | None]:
    """The translated notice for ``?done=`` / ``?problem=`` (unknown codes show nothing)."""
    t = request[PAGE].translator
    done = DONE.get(request.query.get("done", ""))
    problem = PROBLEMS.get(request.query.get("problem", ""))
    return {
        "done": t.gettext(done) if done else None,
        "problem": t.gettext(problem) if problem else None,
    }


def contact_id(request: web.Request) -> int:
    return path_id(request, "contact_id")


@page
async def contact_list(request: web.Request) -> web.StreamResponse:
    resident = require_resident(request)
    async with request.app[appkeys.DATABASE].read() as session:
        views = await contact_views.contact_list(session, resident)
        waiting = await contact_views.open_request_count(session, resident)
    context: dict[str, Any] = {"contacts": views, "waiting": waiting, **notices(request)}
    return await render(request, "contacts/index.html", context)


@page
async def request_list(request: web.Request) -> web.StreamResponse:
    resident = require_resident(request)
    lang = request[PAGE].language
    async with request.app[appkeys.DATABASE].read() as session:
        me = await resident_in(session, resident)
        scorer = contact_views.pair_scorer(request.app[MATCHING])
        received = await contact_views.received_requests(session, me, lang, scorer)
        sent = await contact_views.sent_requests(session, me, lang, scorer)
        unseen = await requests_unseen(session, resident.id)
    if unseen:  # the requests and answers are seen now
        async with request.app[appkeys.DATABASE].write() as session:
            await requests_seen(session, resident.id)
        forget_notices(request[PAGE])
    context: dict[str, Any] = {"received": received, "sent": sent, **notices(request)}
    return await render(request, "contacts/requests.html", context)


async def _act(
    request: web.Request, action: Any, done: str, back: str, counted: Action | None = None
) -> web.StreamResponse:
    """Run one contact transition for the logged-in resident, then redirect; a
    ``counted`` one only within the resident's and the client's hourly limit."""
    resident = require_resident(request)
    base_url = request.app[appkeys.CONFIG].node.base_url
    until = None
    try:
        async with request.app[appkeys.DATABASE].write() as session:
            me = await resident_in(session, resident)
            if counted is not None:
                until = await count_action(request, session, counted, me.id)
            if until is None:
                await action(session, base_url, me)
    except ContactError as exc:
        return redirect(f"{back}?problem={exc.code}")
    if until is not None:
        return await too_many(request, until)
    return redirect(f"{back}?done={done}")


@page
async def ask(request: web.Request) -> web.StreamResponse:
    """From a suggestion or the twin page: "yes, I'd like contact"."""
    form = await request.post()
    actor = text(form, "actor")[:500]
    back = local_target(text(form, "next"), REQUESTS_PATH).split("?")[0]
    kind_gates = request.app[MATCHING].settings.kind_gates

    async def action(session: UnitOfWork, base_url: str, me: Resident) -> None:
        await contacts.request_contact(session, base_url, me, actor, kind_gates=kind_gates)

    return await _act(request, action, "asked", back, counted="contact_request")


@page
async def answer(request: web.Request) -> web.StreamResponse:
    cid = contact_id(request)
    decision = text(await request.post(), "decision")
    if decision not in ("accept", "decline"):
        raise web.HTTPBadRequest()

    async def action(session: UnitOfWork, base_url: str, me: Resident) -> None:
        await contacts.answer_request(session, base_url, me, cid, accept=decision == "accept")

    return await _act(
        request, action, "accepted" if decision == "accept" else "declined", REQUESTS_PATH
    )


@page
async def withdraw(request: web.Request) -> web.StreamResponse:
    cid = contact_id(request)
    back = local_target(text(await request.post(), "next"), REQUESTS_PATH).split("?")[0]

    async def action(session: UnitOfWork, base_url: str, me: Resident) -> None:
        await contacts.withdraw(session, base_url, me, cid)

    return await _act(request, action, "withdrawn", back)


@page
async def block_form(request: web.Request) -> web.StreamResponse:
    """What blocking does, said before it is done; the button on this page blocks."""
    cid = contact_id(request)
    resident = require_resident(request)
    back = local_target(request.query.get("next", ""), REQUESTS_PATH).split("?")[0]
    async with request.app[appkeys.DATABASE].read() as session:
        me = await resident_in(session, resident)
        other = await contact_views.known_as(session, me, cid, request[PAGE].language)
    if other is None:
        raise web.HTTPNotFound()
    if other.contact.blocked_by_me:
        return redirect(SETTINGS_BLOCKED)
    context: dict[str, Any] = {"other": other, "back": back}
    return await render(request, "contacts/block.html", context)


@page
async def block(request: web.Request) -> web.StreamResponse:
    cid = contact_id(request)
    back = local_target(text(await request.post(), "next"), REQUESTS_PATH).split("?")[0]

    async def action(session: UnitOfWork, base_url: str, me: Resident) -> None:
        await contacts.block(session, base_url, me, cid)

    return await _act(request, action, "blocked", back)


@page
async def unblock(request: web.Request) -> web.StreamResponse:
    """From the settings: lift one's own block (someone else's contact id: 404)."""
    cid = contact_id(request)
    resident = require_resident(request)
    try:
        async with request.app[appkeys.DATABASE].write() as session:
            await contacts.unblock(session, await resident_in(session, resident), cid)
    except ContactError as exc:
        if exc.code == "not_found":
            raise web.HTTPNotFound() from None
        return redirect(f"/settings?problem={exc.code}#blocked-title")
    return redirect("/settings?done=unblocked#blocked-title")


async def blocked_context(request: web.Request) -> dict[str, Any]:
    """What the settings page's "blocked" section shows (settings/_blocked.html)."""
    resident = require_resident(request)
    async with request.app[appkeys.DATABASE].read() as session:
        me = await resident_in(session, resident)
        blocked = await contact_views.blocked_list(session, me, request[PAGE].language)
    shown = notices(request)
    return {
        "blocked": blocked,
        "blocked_done": shown["done"] if request.query.get("done") == "unblocked" else None,
        "blocked_problem": shown["problem"]
        if request.query.get("problem") == "not_blocked"
        else None,
    }


async def _report_page(
    request: web.Request,
    cid: int,
    *,
    values: dict[str, str],
    problem: str | None = None,
    status: int = 200,
) -> web.StreamResponse:
    resident = require_resident(request)
    t = request[PAGE].translator
    async with request.app[appkeys.DATABASE].read() as session:
        me = await resident_in(session, resident)
        contact = await contact_views.own_contact(session, me, cid)
    if contact is None:
        raise web.HTTPNotFound()
    context: dict[str, Any] = {
        "contact": contact,
        "reasons": [(code, t.gettext(label)) for code, label in REASON_LABELS.items()],
        "values": values,
        "problem": t.gettext(PROBLEMS[problem]) if problem in PROBLEMS else None,
    }
    return await render(request, "contacts/report.html", context, status=status)


@page
async def report_form(request: web.Request) -> web.StreamResponse:
    return await _report_page(request, contact_id(request), values={})


@page
async def report(request: web.Request) -> web.StreamResponse:
    resident = require_resident(request)
    cid = contact_id(request)
    form = await request.post()
    reason, comment = text(form, "reason"), text(form, "comment")
    base_url = request.app[appkeys.CONFIG].node.base_url
    try:
        async with request.app[appkeys.DATABASE].write() as session:
            me = await resident_in(session, resident)
            until = await count_action(request, session, "report", me.id)
            if until is None:
                await reports.file_report(session, base_url, me, cid, reason, comment)
    except ContactError as exc:
        if exc.code == "not_found":
            raise web.HTTPNotFound() from None
        values = {"reason": reason, "comment": comment[:2000]}
        return await _report_page(request, cid, values=values, problem=exc.code, status=400)
    if until is not None:
        return await too_many(request, until)
    return redirect(f"{REQUESTS_PATH}?done=reported")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/contacts", contact_list, name="contacts")
    app.router.add_get(REQUESTS_PATH, request_list, name="contact_requests")
    app.router.add_post("/contacts/request", ask, name="contact_ask")
    app.router.add_post("/contacts/{contact_id}/answer", answer)
    app.router.add_post("/contacts/{contact_id}/withdraw", withdraw)
    app.router.add_get("/contacts/{contact_id}/block", block_form)
    app.router.add_post("/contacts/{contact_id}/block", block)
    app.router.add_post("/contacts/{contact_id}/unblock", unblock)
    app.router.add_get("/contacts/{contact_id}/report", report_form)
    app.router.add_post("/contacts/{contact_id}/report", report)
