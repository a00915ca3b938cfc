"""Counting the inbox's refusals once per request, whoever refuses.

Refusals happen partly in ``federation.inbox`` (signature, size, shape), which knows
nothing of metrics, and partly in the node's handlers, which know the activity's type.
A handler that refuses counts the refusal with :func:`inbox_refused`, given the request
it answers (the node's inbox hands its store each request,
``node.federation.inbox.RequestStore``), and marks that request as counted;
:func:`counted_inbox` wraps the endpoint and counts every refusal whose request is not
marked (its type unknown). So each refused request counts once, and nothing about it
outlives the request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from node.metrics.labels import refusal_class
from node.metrics.record import inbox_activity

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_REFUSAL_COUNTED = web.RequestKey("metrics_inbox_refusal_counted", bool)
"""Set on an inbox request once a handler counted its refusal."""


def inbox_refused(request: web.Request, activity: str, obj: str | None, status: int) -> None:
    """A node handler refused the activity ``request`` brought with ``status`` before it
    was stored."""
    inbox_activity(request.app, activity, obj, "refused", refusal_class(status))
    request[_REFUSAL_COUNTED] = True


def counted_inbox(app: web.Application, handler: Handler) -> Handler:
    """The inbox endpoint, counting the refusals nobody inside counted (type unknown)."""

    async def counted(request: web.Request) -> web.StreamResponse:
        response = await handler(request)
        if response.status >= 300 and not request.get(_REFUSAL_COUNTED, False):
            inbox_activity(app, "unknown", None, "refused", refusal_class(response.status))
        return response

    return counted
