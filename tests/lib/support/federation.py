"""Federation test support: signed requests, a probe activity handler, a scripted peer.

Everything here talks real HTTP over loopback; nothing is mocked.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from sqlalchemy import select

from federation.documents import ACTIVITY_JSON
from federation.keys import PrivateKey
from federation.signatures import sign_request
from node.federation.handlers import ActivityHandler, InboxContext, Rejected, register_handler
from node.models import InboxActivity, OutboxActivity, Peer
from node.runtime import appkeys
from tests.lib.support.nodes import RunningNode, bound_socket

# Short schedules so that retries, leases and polling take tenths of a second.
FAST = {
    "federation": {
        "retry_base_seconds": 0.05,
        "retry_max_seconds": 0.4,
        "worker_poll_seconds": 0.05,
        "connect_timeout_seconds": 1.0,
        "read_timeout_seconds": 2.0,
        "delivery_lease_seconds": 4.0,
    }
}

PROBE = "Probe"


async def wait_for(
    condition: Callable[[], Awaitable[bool]], within: float = 15.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.02)


def key_id(node: RunningNode) -> str:
    return f"{node.config.actor_url}#main-key"


def probe(
    node: RunningNode, n: int = 0, *, to: Iterable[str] | None = None, **extra: Any
) -> dict[str, Any]:
    """A test activity from ``node``'s actor: Create of a Probe object, addressed to
    ``to`` (by default to the actors of every peer in ``node``'s config)."""
    addressees = list(to) if to is not None else [peer.actor_url for peer in node.config.peers]
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{node.url}/activities/{uuid.uuid4()}",
        "type": "Create",
        "actor": node.config.actor_url,
        "to": addressees,
        "object": {"type": PROBE, "n": n, **extra},
    }


def signed(
    url: str,
    document: Any,
    *,
    signer: RunningNode | None = None,
    key: PrivateKey | None = None,
    key_id_: str | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    **options: Any,
) -> tuple[dict[str, str], bytes]:
    """Headers and body of a POST signed like the delivery worker signs it."""
    payload = body if body is not None else json.dumps(document).encode()
    private = key if key is not None else signer.keys.rsa  # type: ignore[union-attr]
    return (
        sign_request(
            "POST",
            url,
            {"Content-Type": ACTIVITY_JSON, **(headers or {})},
            payload,
            key_id=key_id_ or key_id(signer),  # type: ignore[arg-type]
            private_key=private,
            **options,
        ),
        payload,
    )


@dataclass
class ProbeLog:
    """What the probe handler saw, shared across restarts of a node."""

    applied: list[str] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)


class ProbeHandler(ActivityHandler):
    """Records applied probes; ``object.reject`` refuses in check, ``object.failTimes``
    makes apply fail that many times first."""

    def __init__(self, log: ProbeLog) -> None:
        self.log = log

    async def check(self, ctx: InboxContext) -> None:
        reason = ctx.activity["object"].get("reject")
        if reason:
            raise Rejected(403, str(reason))

    async def apply(self, ctx: InboxContext) -> None:
        activity_id = ctx.activity_id
        tries = self.log.attempts.get(activity_id, 0) + 1
        self.log.attempts[activity_id] = tries
        if tries <= int(ctx.activity["object"].get("failTimes", 0)):
            raise RuntimeError(f"probe failure {tries}")
        self.log.applied.append(activity_id)
        self.log.numbers.append(int(ctx.activity["object"].get("n", 0)))


def probe_extension(log: ProbeLog) -> Callable[[web.Application], None]:
    def setup(app: web.Application) -> None:
        register_handler(app, "Create", PROBE, ProbeHandler(log))

    return setup


async def inbox_rows(node: RunningNode) -> list[InboxActivity]:
    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as session:
        return list((await session.scalars(select(InboxActivity).order_by(InboxActivity.id))).all())


async def probe_ids(node: RunningNode) -> list[str]:
    """Ids of the probes in ``node``'s inbox, in arrival order (other features' activities,
    such as vector updates, are left out)."""
    return [row.activity_id for row in await inbox_rows(node) if row.object_type == PROBE]


async def outbox_rows(node: RunningNode) -> list[OutboxActivity]:
    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as session:
        return list(
            (await session.scalars(select(OutboxActivity).order_by(OutboxActivity.id))).all()
        )


async def peer_row(node: RunningNode, actor_url: str) -> Peer:
    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as session:
        peer = await session.scalar(select(Peer).where(Peer.actor_url == actor_url))
        assert peer is not None
        return peer


async def trusting(node: RunningNode, other: RunningNode) -> bool:
    """Whether ``node`` has fetched ``other``'s actor and pinned a key of it."""
    from node.models import utcnow
    from node.peers import registry as repo

    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as session:
        peer = await repo.by_actor(session, other.config.actor_url)
        return bool(
            peer is not None
            and peer.inbox_url
            and await repo.is_trusted(session, peer.id, utcnow())
        )


Responder = Callable[[web.Request, bytes], Awaitable[web.StreamResponse]]


class ScriptedPeer:
    """A stand-in peer inbox on a loopback port that records every POST it gets and
    answers from a script (default 202); GETs are recorded in ``fetches`` and get 404."""

    def __init__(self, responses: Iterable[Any] = ()) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.times: list[float] = []
        self.answers: list[int] = []
        self.fetches: list[str] = []
        self.script: list[Any] = list(responses)
        self.sock = bound_socket()
        self.runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def activity_ids(self) -> list[str]:
        ids = []
        for method, _path, _headers, body in self.requests:
            if method == "POST":
                ids.append(json.loads(body)["id"])
        return ids

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if request.method != "POST":
            # Other features of the node fetch from peers (vector pages); not scripted.
            self.fetches.append(request.path_qs)
            return web.Response(status=404)
        self.times.append(time.monotonic())
        self.requests.append((request.method, request.path_qs, dict(request.headers), body))
        answer = self.script.pop(0) if self.script else 202
        if callable(answer):
            response = await answer(request, body)
        elif isinstance(answer, tuple):
            response = web.Response(status=answer[0], headers=answer[1])
        else:
            response = web.Response(status=answer)
        self.answers.append(response.status)
        return response

    def acknowledged(self) -> list[str]:
        """Activity ids in the order they were answered with a 2xx."""
        ids = self.activity_ids()
        return [i for i, status in zip(ids, self.answers, strict=False) if 200 <= status < 300]

    async def __aenter__(self) -> ScriptedPeer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self.runner.setup()
        await web.SockSite(self.runner, self.sock).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        self.sock.close()


async def queue(
    node: RunningNode, to: RunningNode | str, activities: Iterable[dict[str, Any]]
) -> None:
    """Queue ``activities`` in ``node``'s outbox for the peer ``to``, in one transaction."""
    from node.federation.outbox import enqueue

    assert node.app is not None
    actor_url = to if isinstance(to, str) else to.config.actor_url
    async with node.app[appkeys.DATABASE].write() as session:
        peer = await session.scalar(select(Peer).where(Peer.actor_url == actor_url))
        assert peer is not None, actor_url
        for activity in activities:
            await enqueue(session, peer=peer, activity=activity)


async def fake_peer(node: RunningNode, peer: ScriptedPeer, *, trusted: bool = True) -> str:
    """Register a scripted peer in ``node``'s database as if its actor had been fetched
    (and, when ``trusted``, a key of it pinned); returns its actor URL."""
    from federation.actors import ActorKey
    from federation.keys import fingerprint, public_key_pem
    from node.models import utcnow
    from node.peers import registry as repo

    assert node.app is not None
    actor_url = f"{peer.url}/actor"
    key = node.keys.ed25519.public_key()  # any key will do: it never signs anything here
    async with node.app[appkeys.DATABASE].write() as session:
        row = await repo.upsert(session, actor_url, source="admin")
        row.inbox_url = f"{peer.url}/inbox"
        row.actor_fetched_at = utcnow()
        row.name = "Scripted"
        if trusted:
            pinned = ActorKey(
                f"{actor_url}#main-key", "ed25519", key, public_key_pem(key), fingerprint(key)
            )
            await repo.pin(session, row, [pinned], pinned_by="admin", now=utcnow())
    return actor_url
