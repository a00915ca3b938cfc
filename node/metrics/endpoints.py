"""``GET /metrics`` in the OpenMetrics text format, the request counter, and the
separate metrics site.

The endpoint is never public by default: ``setup`` adds it only when ``[metrics]``
names a bearer token (then every scrape must carry it, compared in constant time) or
a port of its own (a second site on the listen host that serves nothing else).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST, generate_latest

from node.metrics.appkeys import METRICS
from node.metrics.instruments import NodeMetrics
from node.metrics.snapshot import Snapshot, read_snapshot
from node.models import utcnow
from node.runtime import appkeys
from node.runtime.db import Database

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
CHALLENGE = 'Bearer realm="metrics"'
# Status recorded for a request whose client went away before the answer.
CLIENT_GONE = 499


def authorised(request: web.Request, token: str) -> bool:
    """Whether the request carries ``token`` as its bearer token.

    Both sides are hashed first, so the comparison takes the same time whatever the
    length or content of what was sent.
    """
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    sent = hashlib.sha256(given.strip().encode()).digest()
    return hmac.compare_digest(sent, hashlib.sha256(token.encode()).digest())


async def exposition(metrics: NodeMetrics, db: Database) -> bytes:
    """The whole exposition: the database figures read now, then every family."""
    snapshot: Snapshot | None
    try:
        async with db.read() as session:
            snapshot = await read_snapshot(session, utcnow())
    except Exception as exc:  # the process's own counters are still worth scraping
        log.warning("metrics: database figures unavailable", extra={"error": str(exc)})
        snapshot = None
    # No await between setting and generating: a concurrent scrape cannot interleave.
    metrics.database.latest = snapshot
    body: bytes = generate_latest(metrics.registry)  # type: ignore[no-untyped-call]
    return body


def serving(app: web.Application, token: str | None) -> Handler:
    """The endpoint for ``app``'s metrics, on its own site or on a separate one."""

    async def serve(request: web.Request) -> web.StreamResponse:
        if token is not None and not authorised(request, token):
            return web.Response(
                status=401,
                text="a bearer token is required\n",
                headers={"WWW-Authenticate": CHALLENGE, "Cache-Control": "no-store"},
            )
        body = await exposition(app[METRICS], app[appkeys.DATABASE])
        return web.Response(
            body=body, headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"}
        )

    return serve


def route_label(request: web.Request) -> str:
    """The matched route's name, or its path template (``/contacts/{contact_id}``);
    never the path as requested, which may hold an id or a pseudonym."""
    resource = request.match_info.route.resource
    if resource is None:
        return "unmatched"
    return resource.name or resource.canonical


def method_label(method: str) -> str:
    return method if method in METHODS else "other"


@web.middleware
async def count_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Counts and times every request by route name; costs no database access."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except asyncio.CancelledError:
        status = CLIENT_GONE
        raise
    finally:
        metrics = request.app.get(METRICS)
        if metrics is not None:
            route = route_label(request)
            metrics.http_requests.labels(route, method_label(request.method), str(status)).inc()
            metrics.http_duration.labels(route).observe(time.perf_counter() - started)


def separate_site(
    serve: Handler, host: str, port: int
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context running a second site that serves only ``GET /metrics``.

    It lives as long as the node's app, so ``zwilling run`` and ``zwilling worker``
    both expose their own process's figures there.
    """

    async def lifetime(_app: web.Application) -> AsyncIterator[None]:
        side = web.Application()
        side.router.add_get("/metrics", serve, name="metrics")
        runner = web.AppRunner(side, access_log=None, shutdown_timeout=1)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
            log.info("metrics served separately", extra={"host": host, "port": port})
            yield
        finally:
            await runner.cleanup()

    return lifetime
