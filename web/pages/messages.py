"""The conversation with one contact: what the other revealed, the messages, and the
form to write.

Opening the page marks the messages read. That is a write on a GET, which the rest
of the site avoids; here the act of reading *is* the page view, and a forged view
could do no more than mark a message read, so no form is demanded for it. The page
reads first and writes only when it showed something new: most views of a
conversation change nothing and so never wait for the write lock.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.contacts import messages
from node.contacts.consent import ContactError, is_mutual, standing
from node.runtime import appkeys
from web.forms.base import text
from web.keys import PAGE
from web.notices import forget as forget_notices
from web.pages.contacts import PROBLEMS, contact_id, notices
from web.rendering import redirect, render
from web.routing import page
from web.text import linkify
from web.throttling import count_action, too_many
from web.visits.access import require_resident, resident_in

MAX_FORM_LENGTH = messages.MAX_LENGTH * 4


async def _page(
    request: web.Request,
    cid: int,
    *,
    problem: str | None = None,
    draft: str = "",
    status: int = 200,
) -> web.StreamResponse:
    resident = require_resident(request)
    t = request[PAGE].translator
    db = request.app[appkeys.DATABASE]
    async with db.read() as session:
        try:
            found = await messages.conversation(session, resident, cid)
        except ContactError:
            raise web.HTTPNotFound() from None
    if found.unseen:
        async with db.write() as session:
            await messages.mark_seen(session, resident, found)
        forget_notices(request[PAGE])
    contact = found.contact
    context: dict[str, Any] = {
        "contact": contact,
        "standing": standing(contact),
        "can_write": is_mutual(contact),
        "messages": [(m, linkify(m.body)) for m in found.messages],
        "max_length": messages.MAX_LENGTH,
        "draft": draft,
        **notices(request),
    }
    if problem in PROBLEMS:
        context["problem"] = t.gettext(PROBLEMS[problem])
    return await render(request, "messages/conversation.html", context, status=status)


@page
async def conversation(request: web.Request) -> web.StreamResponse:
    return await _page(request, contact_id(request))


@page
async def send(request: web.Request) -> web.StreamResponse:
    resident = require_resident(request)
    cid = contact_id(request)
    body = text(await request.post(), "body")[:MAX_FORM_LENGTH]
    base_url = request.app[appkeys.CONFIG].node.base_url
    try:
        async with request.app[appkeys.DATABASE].write() as session:
            me = await resident_in(session, resident)
            until = await count_action(request, session, "message", me.id)
            if until is None:
                await messages.send_message(session, base_url, me, cid, body)
    except ContactError as exc:
        if exc.code == "not_found":
            raise web.HTTPNotFound() from None
        draft = body[: messages.MAX_LENGTH * 2]
        return await _page(request, cid, problem=exc.code, draft=draft, status=400)
    if until is not None:
        return await too_many(request, until)
    return redirect(f"/contacts/{cid}#latest")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/contacts/{contact_id:\\d+}", conversation, name="conversation")
    app.router.add_post("/contacts/{contact_id:\\d+}/messages", send)
