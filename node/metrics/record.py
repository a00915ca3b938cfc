"""How the other features record into the metrics: one call at each place, doing
nothing in an app built without them (``app.get(METRICS)`` is None then).

The inbox is the one place that needs more than a call: refusals happen partly in
``federation.inbox`` (signature, size, shape), which knows nothing of metrics, and
partly in the node's handlers, which know the activity's type. :func:`counted_inbox`
wraps the endpoint and counts every refusal the handlers did not count already.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from typing import TYPE_CHECKING

from node.metrics.appkeys import METRICS
from node.metrics.labels import peer_label, refusal_class

if TYPE_CHECKING:
    from aiohttp import web

    Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _Refusal:
    """Whether the inbox request being answered had its refusal counted already."""

    counted = False


_INBOX_REQUEST: ContextVar[_Refusal | None] = ContextVar("zwilling_inbox_request", default=None)


def inbox_activity(
    app: web.Application, activity: str, obj: str | None, outcome: str, reason: str = ""
) -> None:
    """An inbox outcome for an activity of a type a handler is registered for."""
    metrics = app.get(METRICS)
    if metrics is not None:
        metrics.inbox_activities.labels(activity, obj or "", outcome, reason).inc()


def inbox_refused(app: web.Application, activity: str, obj: str | None, status: int) -> None:
    """A node handler refused the activity with ``status`` before it was stored."""
    inbox_activity(app, activity, obj, "refused", refusal_class(status))
    current = _INBOX_REQUEST.get()
    if current is not None:
        current.counted = True


def counted_inbox(app: web.Application, handler: Handler) -> Handler:
    """The inbox endpoint, counting the refusals nobody inside counted (type unknown)."""

    async def counted(request: web.Request) -> web.StreamResponse:
        refusal = _Refusal()
        token = _INBOX_REQUEST.set(refusal)
        try:
            response = await handler(request)
        finally:
            _INBOX_REQUEST.reset(token)
        if response.status >= 300 and not refusal.counted:
            inbox_activity(app, "unknown", None, "refused", refusal_class(response.status))
        return response

    return counted


def delivery_attempts(
    app: web.Application, actor_url: str, attempts: Iterable[tuple[str, int | None]]
) -> None:
    """Attempts to deliver to the peer at ``actor_url``: (outcome, HTTP status or None)."""
    metrics = app.get(METRICS)
    if metrics is not None:
        peer = peer_label(actor_url)
        for outcome, status in attempts:
            label = "network_error" if status is None else str(status)
            metrics.delivery_attempts.labels(peer, outcome, label).inc()


def matching_run(app: web.Application, *, full: bool, seconds: float) -> None:
    """A matching run that completed: its duration, and now as the last success."""
    metrics = app.get(METRICS)
    if metrics is not None:
        metrics.matching_duration.labels("full" if full else "partial").observe(seconds)
        metrics.matching_last_success.set(time.time())
