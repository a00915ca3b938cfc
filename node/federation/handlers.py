"""What the node does with a verified activity: one handler per (activity type, object type).

Features register their handler when the app is built; the inbox itself (signature,
origins, deduplication, storage) never changes for a new kind of activity::

    class ProfileUpdates(ActivityHandler):
        async def check(self, ctx: InboxContext) -> None:   # optional, read-only
            if not valid(ctx.activity["object"]):
                raise Rejected(400, "InterestProfile: unknown kind")

        async def apply(self, ctx: InboxContext) -> None:
            ctx.session.add(...)                              # no commit: the inbox does

    register_handler(app, "Update", "InterestProfile", ProfileUpdates())

``check`` runs before the activity is stored and may refuse it with a 4xx that the
sending node sees. ``apply`` runs after the row is stored, inside the transaction
that marks the row applied; if it raises, the row stays pending and the inbox
worker calls ``apply`` again later (with backoff), so ``apply`` must tolerate
running again after a failed attempt, and may raise to wait for an activity that
has not arrived yet (an ``Accept`` before its ``Follow``).

A handler whose ``apply`` costs database round trips per activity may also override
``apply_all``: the inbox then hands it each run of consecutive activities of its kind
in a batch at once, in arrival order, so it can read and write them in a constant
number of statements. It must leave the database as ``apply`` one after the other
would. If it raises, the batch is rolled back and stored again calling ``apply`` per
activity, so that only the activity that really fails is left pending.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from federation.inbox import Rejected
from node.models import Peer
from node.runtime.db import UnitOfWork

__all__ = [
    "HANDLERS",
    "ActivityHandler",
    "HandlerRegistry",
    "InboxContext",
    "Rejected",
    "object_type_of",
    "register_handler",
]


@dataclass
class InboxContext:
    """Everything a handler may use; ``activity`` is the JSON object as received.

    Only its generic shape is checked (:func:`federation.activities.parse_activity`: an
    ``id`` URL, an ActivityStreams ``type``, an ``actor``, an ``object`` that is a URL or
    a JSON object with a ``type``), so its values stay ``object`` here: a handler reads
    its own kind through a parser (:mod:`node.contacts._wire`, ...) that checks the rest,
    and never takes it for a :mod:`federation.vocabulary` type because of its ``type``.
    It is read-only: it is what was stored, and what a proof inside it was computed over.

    ``session`` is the unit of work of the inbox: the read-only one for ``check``, the
    writing one for ``apply`` (which may queue activities and record events on it).
    ``key_fingerprint`` is the fingerprint of the pinned key that signed the request.
    """

    session: UnitOfWork
    activity: Mapping[str, object]
    peer: Peer
    app: web.Application
    received_at: datetime
    key_fingerprint: str | None = None

    @property
    def activity_id(self) -> str:
        return str(self.activity["id"])


class ActivityHandler(ABC):
    """Base for handlers; ``check`` accepts everything unless overridden."""

    async def check(self, ctx: InboxContext) -> None:
        return None

    @abstractmethod
    async def apply(self, ctx: InboxContext) -> None:
        """Make the change; runs in the transaction that marks the activity applied."""

    async def apply_all(self, contexts: Sequence[InboxContext]) -> None:
        """Several activities of this handler's kind, in arrival order, sharing one
        unit: only worth overriding when it saves round trips over ``apply``."""
        for ctx in contexts:
            await self.apply(ctx)


def object_type_of(activity: Mapping[str, object]) -> str | None:
    """The key half that handlers are registered under: the object's type, if embedded."""
    target = activity.get("object")
    if isinstance(target, dict):
        kind = target.get("type")
        if isinstance(kind, str):
            return kind
    return None


class HandlerRegistry:
    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str | None], ActivityHandler] = {}

    def register(
        self, activity_type: str, object_type: str | None, handler: ActivityHandler
    ) -> None:
        key = (activity_type, object_type)
        if key in self._handlers:
            raise ValueError(f"a handler for {activity_type}/{object_type} is already registered")
        self._handlers[key] = handler

    def find(self, activity_type: str, object_type: str | None) -> ActivityHandler | None:
        return self._handlers.get((activity_type, object_type))

    def lookup(self, activity: Mapping[str, object]) -> ActivityHandler:
        """The handler for ``activity``, or Rejected(400) when nobody handles it."""
        kind = activity.get("type")
        object_type = object_type_of(activity)
        handler = self.find(kind, object_type) if isinstance(kind, str) else None
        if handler is None:
            described = f"{kind}" + (f" of {object_type}" if object_type else " of a reference")
            raise Rejected(400, f"unsupported activity: {described[:80]}")
        return handler

    def __len__(self) -> int:
        return len(self._handlers)


HANDLERS = web.AppKey("inbox_handlers", HandlerRegistry)


def registry(app: web.Application) -> HandlerRegistry:
    """The app's registry, created on first use (before the app starts)."""
    if HANDLERS not in app:
        app[HANDLERS] = HandlerRegistry()
    return app[HANDLERS]


def register_handler(
    app: web.Application,
    activity_type: str,
    object_type: str | None,
    handler: ActivityHandler,
) -> None:
    """Route activities of ``activity_type`` whose object has ``object_type`` to ``handler``.

    ``object_type`` None matches activities whose object is a URL (``Undo`` of a
    ``Follow`` given by id, ``Delete`` of an actor). Call while building the app.
    """
    registry(app).register(activity_type, object_type, handler)
