"""What the frame of every page shows a logged-in resident about their notices: the
count next to "Contacts" in the menu, and the notices themselves on the dashboard
(see :mod:`node.contacts.notices`).

The session middleware reads them with the session of a page view (one unit of work
instead of two); a page that marks notices seen forgets them, so that the frame
shows what is left."""

from __future__ import annotations

from aiohttp import web

from node.contacts import notices
from node.runtime import appkeys
from web import keys


async def unseen(request: web.Request, state: keys.PageState) -> notices.Unseen | None:
    if state.resident is None:
        return None
    if not state.unseen_read:
        async with request.app[appkeys.DATABASE].read() as session:
            state.unseen = await notices.unseen(session, state.resident.id)
        state.unseen_read = True
    return state.unseen


def forget(state: keys.PageState) -> None:
    """The page changed what is unseen: the frame reads it again."""
    state.unseen, state.unseen_read = None, False
