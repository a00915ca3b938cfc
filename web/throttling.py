"""Who is asking, and the answer for someone who asks too often."""

from __future__ import annotations

import math
from datetime import datetime

from aiohttp import web

from node.accounts import limits
from node.models import utcnow
from node.runtime import appkeys
from node.runtime.db import UnitOfWork
from web.rendering import render

TOO_MANY = 429


def client_of(request: web.Request) -> str:
    """The client's network address; X-Forwarded-For counts only behind a trusted proxy."""
    config = request.app[appkeys.CONFIG]
    forwarded = request.headers.get("X-Forwarded-For")
    return limits.client_address(request.remote, forwarded, config.limits)


def retry_after(until: datetime) -> int:
    """Whole seconds until ``until``, at least one."""
    return max(1, math.ceil((until - utcnow()).total_seconds()))


async def too_many(request: web.Request, until: datetime) -> web.Response:
    """A 429 page telling when to come back; nothing was done for the request."""
    seconds = retry_after(until)
    context = {"minutes": max(1, math.ceil(seconds / 60)), "status": TOO_MANY}
    response = await render(request, "errors/too_many.html", context, status=TOO_MANY)
    response.headers["Retry-After"] = str(seconds)
    return response


async def count_action(
    request: web.Request, session: UnitOfWork, action: limits.Action, resident_id: int
) -> datetime | None:
    """Count a resident's message, contact request or report; when to come back if over."""
    config = request.app[appkeys.CONFIG]
    return await limits.take_action(
        session, config.limits, action, resident_id, client_of(request), utcnow()
    )
