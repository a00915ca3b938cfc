"""The inbox endpoint: verify, parse, check, store, then 202.

The order is the point. Cheap refusals come first (declared size, missing or
malformed signature), then the body is read with the limit enforced while
reading, the signer is found among the keys pinned for configured peers (an
unknown keyId is refused without fetching anything from its host), the signed
components, date window, digest and signature are verified, the activity's
shape and origins are checked, a redelivery is acknowledged without being
applied twice, the node's handler gets a read-only look (it may refuse with a
4xx), and only then is the activity stored. The 202 goes out after the store
returned, so an acknowledged activity is never lost.

Storage and handlers belong to the node, which plugs them in through the small
protocols below; this module knows nothing about residents or databases.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, Protocol, TypeVar

from aiohttp import web

from federation.activities import Activity, ActivityError, check_origins, parse_activity_json
from federation.keys import PublicKey
from federation.signatures import (
    ParsedSignature,
    SignatureError,
    parse_signature,
    verify_request,
)

__all__ = [
    "ActivityCheck",
    "ActivityStore",
    "InboxSettings",
    "PinnedKeys",
    "Rejected",
    "SeenActivities",
    "TrustedKey",
    "authenticate",
    "inbox_handler",
    "read_body",
]

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The node's own record of a peer, carried through untouched: this module never looks
# inside it, and the node gets back the very type it put in.
PeerT = TypeVar("PeerT")


class Rejected(Exception):
    """A refusal with the HTTP status to answer and a reason for the peer's admin."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class TrustedKey(Generic[PeerT]):
    """A pinned key of a configured peer; ``peer`` is the node's handle for that peer."""

    key_id: str
    public_key: PublicKey = field(repr=False)
    fingerprint: str
    origin: str
    peer: PeerT = field(repr=False)


@dataclass(frozen=True)
class InboxSettings:
    max_body_bytes: int
    date_window_seconds: float
    scheme: str = "https"
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


class PinnedKeys(Protocol[PeerT]):
    async def keys_for(self, key_id: str, *, fresh: bool = False) -> Sequence[TrustedKey[PeerT]]:
        """The pinned keys published under ``key_id`` (more than one while a key rotates).

        Must never fetch from the keyId's host unless it is a configured peer. An
        implementation may cache; ``fresh`` asks it not to (no cached key verified,
        and one may have been pinned since).
        """
        ...


class SeenActivities(Protocol):
    async def seen(self, activity: Activity) -> bool:
        """Whether this activity id was stored before. May answer False when the store
        deduplicates atomically and no check would judge a redelivery."""
        ...


class ActivityCheck(Protocol[PeerT]):
    async def check(self, activity: Activity, signer: TrustedKey[PeerT]) -> None:
        """Raise Rejected to refuse the activity before anything is stored."""
        ...


class ActivityStore(Protocol[PeerT]):
    async def store(self, activity: Activity, signer: TrustedKey[PeerT]) -> bool:
        """Persist durably (committed on return); False when the id was already stored."""
        ...


def _problem(status: int, reason: str, **headers: str) -> web.Response:
    return web.json_response({"error": reason}, status=status, headers=headers or None)


def _unauthorized(reason: str) -> web.Response:
    challenge = 'Signature realm="inbox",headers="(request-target) host date digest"'
    return _problem(401, reason, **{"WWW-Authenticate": challenge})


async def read_body(request: web.Request, limit: int) -> bytes:
    """The body, refusing (413) as soon as it is known to exceed ``limit`` bytes.

    The declared length is checked before reading, and the count is enforced while
    reading too, because a chunked body declares nothing.
    """
    declared = request.content_length
    if declared is not None and declared > limit:
        raise Rejected(413, f"body of {declared} bytes is over this node's limit of {limit}")
    chunks: list[bytes] = []
    received = 0
    while True:
        chunk = await request.content.read(64 * 1024)
        if not chunk:
            return b"".join(chunks)
        received += len(chunk)
        if received > limit:
            raise Rejected(413, f"body is over this node's limit of {limit} bytes")
        chunks.append(chunk)


def _target(request: web.Request, settings: InboxSettings) -> str:
    return f"{settings.scheme}://{request.host}{request.raw_path}"


def _parse(request: web.Request, settings: InboxSettings) -> ParsedSignature:
    try:
        return parse_signature(request.method, _target(request, settings), request.headers)
    except SignatureError as exc:
        raise Rejected(exc.status, exc.reason) from None


async def authenticate(
    request: web.Request,
    body: bytes,
    settings: InboxSettings,
    keys: PinnedKeys[PeerT],
    parsed: ParsedSignature | None = None,
) -> TrustedKey[PeerT]:
    """The pinned peer key that signed this request, or Rejected(401).

    For a request without a body (a signed GET) pass ``b""``: no digest is then
    demanded, since there is nothing for it to cover.
    """
    target = _target(request, settings)
    if parsed is None:
        parsed = _parse(request, settings)
    candidates = await keys.keys_for(parsed.key_id)
    if not candidates:
        raise Rejected(
            401,
            f"key {parsed.key_id[:200]} is not a pinned key of a peer of this node; "
            "the admins pin each other's fingerprints (zwilling peer add)",
        )
    first_error: SignatureError | None = None
    tried: set[str] = set()
    for attempt in (0, 1):
        if attempt:
            candidates = [
                key
                for key in await keys.keys_for(parsed.key_id, fresh=True)
                if key.fingerprint not in tried
            ]
        for candidate in candidates:
            tried.add(candidate.fingerprint)
            try:
                verify_request(
                    request.method,
                    target,
                    request.headers,
                    body,
                    public_key=candidate.public_key,
                    now=settings.clock(),
                    max_skew=settings.date_window_seconds,
                    parsed=parsed,
                )
            except SignatureError as exc:
                first_error = first_error or exc
                continue
            return candidate
    assert first_error is not None
    raise Rejected(first_error.status, first_error.reason)


def inbox_handler(
    settings: InboxSettings,
    *,
    keys: PinnedKeys[PeerT],
    seen: SeenActivities,
    check: ActivityCheck[PeerT],
    store: ActivityStore[PeerT],
) -> Handler:
    """An aiohttp handler for POST /inbox wired to the node's storage and handlers."""

    async def accept(request: web.Request) -> web.Response:
        limit = settings.max_body_bytes
        declared = request.content_length
        if declared is not None and declared > limit:
            raise Rejected(413, f"body of {declared} bytes is over this node's limit of {limit}")
        parsed = _parse(request, settings)
        body = await read_body(request, limit)
        signer = await authenticate(request, body, settings, keys, parsed)
        try:
            activity = parse_activity_json(body)
            check_origins(activity, signer.origin)
        except ActivityError as exc:
            raise Rejected(exc.status, exc.reason) from None
        if await seen.seen(activity):
            return web.json_response({"status": "duplicate", "id": activity.id}, status=202)
        await check.check(activity, signer)
        status = "accepted" if await store.store(activity, signer) else "duplicate"
        return web.json_response({"status": status, "id": activity.id}, status=202)

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            return await accept(request)
        except Rejected as exc:
            if exc.status == 401:
                return _unauthorized(exc.reason)
            return _problem(exc.status, exc.reason)
        except Exception:
            # Storage down or a handler bug: the sender retries a 503, and nothing
            # was acknowledged, so nothing is lost.
            log.exception("inbox could not take an activity")
            return _problem(503, "the inbox cannot take activities right now; retry later")

    return handle
