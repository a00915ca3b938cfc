"""The inbox endpoint: verify, parse, check, store, then 202.

The order is the point. Cheap refusals come first (declared size, missing or
malformed signature), then the body is read with the limit enforced while
reading, the signed authority must be one this node answers under (a request
signed for another node is refused), the signer is found among the keys pinned
for configured peers (an unknown keyId is refused without fetching anything from
its host), the signed components, date window, digest and signature are
verified, the body is decoded with its nesting bounded, the activity's shape and
origins are checked, it must be addressed to this node or one of its pseudonym
actors, a redelivery is acknowledged without being applied twice, the node's
handler gets a read-only look (it may refuse with a 4xx), and only then is the
activity stored. The 202 goes out after the store returned, so an acknowledged
activity is never lost. A store may take the last two questions (seen before?
refused by a check?) on itself, to answer them for many concurrent arrivals at
once; it keeps the same order.

Signatures are verified on the event loop: an RSA-2048 verification takes some
20 µs, less than handing it to a worker thread and back would cost.

Storage and handlers belong to the node, which plugs them in through the small
protocols below; this module knows nothing about residents or databases.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, Protocol, TypeVar
from urllib.parse import urlsplit

from aiohttp import web

from federation.activities import (
    Activity,
    ActivityError,
    check_addressed,
    check_origins,
    origin,
    parse_activity_json,
)
from federation.keys import PublicKey
from federation.signatures import (
    ParsedSignature,
    SignatureError,
    normalise_authority,
    parse_signature,
    verify_request,
)

__all__ = [
    "ActivityCheck",
    "ActivityStore",
    "InboxSettings",
    "PinnedKeys",
    "Receiver",
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
class Receiver:
    """This node as a request must name it: the authorities it answers under, and the
    URLs of its actors (the node's own, and its pseudonym actors under ``actor_prefix``).

    A signature covers the authority (``Host`` / ``@authority``), so checking it binds
    the request to this node; the addressees bind the activity inside it.
    """

    scheme: str
    authorities: tuple[str, ...]
    actor_path: str = "/actor"
    actor_prefix: str = "/p/"

    def __post_init__(self) -> None:
        if not self.authorities:
            raise ValueError("a receiver answers under at least one authority")

    # Asked on every request: worked out once per receiver (its fields never change).
    @functools.cached_property
    def normalised(self) -> frozenset[str]:
        return frozenset(normalise_authority(name, self.scheme) for name in self.authorities)

    @functools.cached_property
    def _origins(self) -> frozenset[str]:
        return frozenset(origin(f"{self.scheme}://{name}") for name in self.authorities)

    def answers_as(self, authority: str) -> bool:
        """Whether a request naming ``authority`` (host[:port]) is meant for this node."""
        return normalise_authority(authority, self.scheme) in self.normalised

    def addresses(self, url: str) -> bool:
        """Whether ``url`` is this node's actor or one of its pseudonym actors."""
        try:
            named = origin(url)
        except ValueError:
            return False
        parts = urlsplit(url)
        if named not in self._origins or parts.query or parts.fragment:
            return False
        path = parts.path
        if path == self.actor_path:
            return True
        rest = path.removeprefix(self.actor_prefix)
        return rest != path and bool(rest) and "/" not in rest


@dataclass(frozen=True)
class InboxSettings:
    max_body_bytes: int
    date_window_seconds: float
    scheme: str = "https"
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    receiver: Receiver = field(kw_only=True)


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
        """Persist durably (committed on return); False when the id was already stored.

        May raise Rejected when it also answers for the check (see ``inbox_handler``).
        """
        ...


def _problem(status: int, reason: str, **headers: str) -> web.Response:
    return web.json_response({"error": reason}, status=status, headers=headers or None)


# When a sender should come back after a 503: soon enough that a freed disk or a
# restarted database costs little delay, late enough not to hammer a node in trouble.
RETRY_AFTER_SECONDS = 60


def _unavailable(reason: str) -> web.Response:
    return _problem(503, reason, **{"Retry-After": str(RETRY_AFTER_SECONDS)})


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


def _path_only(request: web.Request, settings: InboxSettings) -> ParsedSignature | None:
    """A signed GET read as if its target had no query, or None when that does not apply.

    Fedify, Misskey and Friendica sign ``(request-target)`` over the path alone;
    Mastodon accepts either form, and so does this node, for reads only: the query
    merely selects a page of a resource the signer may read anyway, the signature
    still binds method, path, host, date and key, and what is answered is signed or
    proven itself. A POST always needs the exact target.
    """
    if request.method not in ("GET", "HEAD") or "?" not in request.raw_path:
        return None
    path = request.raw_path.partition("?")[0]
    try:
        return parse_signature(
            request.method, f"{settings.scheme}://{request.host}{path}", request.headers
        )
    except SignatureError:
        return None


def _check_authority(request: web.Request, settings: InboxSettings) -> None:
    """The signed authority must be one this node answers under (401 otherwise).

    Both schemes sign the authority the request was sent to (``host`` in
    draft-cavage, ``@authority`` in RFC 9421, both read from this request's Host), so
    a request signed for another node cannot be replayed here.
    """
    receiver = settings.receiver
    if not receiver.answers_as(request.host):
        names = ", ".join(sorted(receiver.normalised))
        raise Rejected(
            401,
            f"the request is signed for {request.host[:100]!r}, which is not this node; "
            f"this node answers as {names}",
        )


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
    demanded, since there is nothing for it to cover. The signed authority must be
    this node's; a GET may be signed over its target with or without the query.
    """
    target = _target(request, settings)
    if parsed is None:
        parsed = _parse(request, settings)
    _check_authority(request, settings)
    readings = [parsed]
    path_only = _path_only(request, settings)
    if path_only is not None and path_only.key_id == parsed.key_id:
        readings.append(path_only)
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
            for reading in readings:
                try:
                    verify_request(
                        request.method,
                        target,
                        request.headers,
                        body,
                        public_key=candidate.public_key,
                        now=settings.clock(),
                        max_skew=settings.date_window_seconds,
                        parsed=reading,
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
    seen: SeenActivities | None = None,
    check: ActivityCheck[PeerT] | None = None,
    store: ActivityStore[PeerT],
) -> Handler:
    """An aiohttp handler for POST /inbox wired to the node's storage and handlers.

    Without ``seen`` and ``check`` the store answers both questions itself, in the
    same order (a redelivery is acknowledged before any check judges it, a refusal is
    raised as Rejected): a store that groups concurrent arrivals asks them once per
    group instead of once per request.
    """

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
            check_addressed(activity, settings.receiver.addresses)
        except ActivityError as exc:
            raise Rejected(exc.status, exc.reason) from None
        if seen is not None and await seen.seen(activity):
            return web.json_response({"status": "duplicate", "id": activity.id}, status=202)
        if check is not None:
            await check.check(activity, signer)
        status = "accepted" if await store.store(activity, signer) else "duplicate"
        return web.json_response({"status": status, "id": activity.id}, status=202)

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            return await accept(request)
        except Rejected as exc:
            if exc.status == 401:
                return _unauthorized(exc.reason)
            if exc.status == 503:
                return _unavailable(exc.reason)
            return _problem(exc.status, exc.reason)
        except Exception:
            # Storage down (a full disk, a lost database) or a handler bug: the sender
            # retries a 503, and nothing was acknowledged, so nothing is lost.
            log.exception("inbox could not take an activity")
            return _unavailable("the inbox cannot take activities right now; retry later")

    return handle
