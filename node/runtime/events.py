"""Domain events: what a committed unit of work tells the rest of the node.

A feature records an event on the unit of work while it changes the database
(``uow.record(OutboxQueued(...))``); the event is handed to its subscribers only
after the transaction committed, and never when it rolled back. The subscribers
are registered by each feature's ``setup`` when the app is built, so reading
``subscribe(OutboxQueued, …)`` tells who reacts to a queued activity.

A subscriber's failure is logged and does not undo anything: the change is
committed; periodic work (delivery polling, the matching worker's rounds)
catches up with whatever a subscriber could not do.
"""

from __future__ import annotations

import inspect
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

log = logging.getLogger(__name__)

Event = TypeVar("Event")
Subscriber = Callable[[Any], Awaitable[None] | None]


class DomainEvents:
    """Subscribers by event type."""

    def __init__(self) -> None:
        self._subscribers: dict[type, list[Subscriber]] = defaultdict(list)

    def subscribe(
        self, kind: type[Event], subscriber: Callable[[Event], Awaitable[None] | None]
    ) -> None:
        self._subscribers[kind].append(subscriber)

    async def publish(self, events: Iterable[object]) -> None:
        """Hand each event to its subscribers, in order; equal events once."""
        seen: list[object] = []
        for event in events:
            if event in seen:
                continue
            seen.append(event)
            for subscriber in self._subscribers.get(type(event), ()):
                try:
                    result = subscriber(event)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    log.exception(
                        "after-commit work failed; periodic work catches up",
                        extra={"event": type(event).__name__},
                    )
