"""What the frame of every page shows a logged-in resident about their notices: the
count next to "Contacts" in the menu, and the notices themselves on the dashboard
(see :mod:`node.contacts.notices`)."""

from __future__ import annotations

from aiohttp import web

from node.contacts import notices
from node.runtime import appkeys
from web import keys


async def unseen(request: web.Request, state: keys.PageState) -> notices.Unseen | None:
    if state.resident is None:
        return None
    async with request.app[appkeys.DATABASE].read() as session:
        return await notices.unseen(session, state.resident.id)
