"""How the other features record into the metrics: one call at each place, doing
nothing in an app built without them (``app.get(METRICS)`` is None then).

The inbox's refusals are counted per request in :mod:`node.metrics.inbox`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from node.metrics.appkeys import METRICS
from node.metrics.labels import peer_label

if TYPE_CHECKING:
    from aiohttp import web


def inbox_activity(
    app: web.Application, activity: str, obj: str | None, outcome: str, reason: str = ""
) -> None:
    """An inbox outcome for an activity of a type a handler is registered for."""
    metrics = app.get(METRICS)
    if metrics is not None:
        metrics.inbox_activities.labels(activity, obj or "", outcome, reason).inc()


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
