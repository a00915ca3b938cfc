"""The one application factory, used by the CLI, the demo and the tests.

``create_app`` builds the node's shared parts (configuration, keys, the database
and its domain events, the HTTP client, the background work) and hands them to
each feature's ``setup``, which registers its routes, inbox handlers, event
subscribers and workers. What a person sees lives in the ``web`` package, which
depends on ``node`` and not the other way round: it plugs itself in through the
``zwilling.extensions`` entry point, so a node can also run without pages.

Nothing connects or starts before the app does: the engine and the HTTP client
connect on first use, and are closed on cleanup; workers start last and stop first.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime
from importlib.metadata import entry_points

import httpx
from aiohttp import web

from node import VERSION
from node.accounts import setup as accounts
from node.contacts import setup as contacts
from node.federation import setup as federation
from node.mail import setup as mail
from node.matches import setup as matches
from node.metrics import setup as metrics
from node.peer_vectors import setup as peer_vectors
from node.peers import setup as peers
from node.retention import setup as retention
from node.runtime import appkeys
from node.runtime.background import BackgroundWork
from node.runtime.config import Config
from node.runtime.db import Database, is_storage_trouble
from node.runtime.events import DomainEvents
from node.runtime.keys import NodeKeys, load_keys
from node.runtime.logs import Handler, request_logging
from node.vectors import setup as vectors

log = logging.getLogger(__name__)

Extension = Callable[[web.Application], None]
EXTENSION_GROUP = "zwilling.extensions"
FEATURES: tuple[Extension, ...] = (
    metrics.setup,
    peers.setup,
    accounts.setup,
    federation.setup,
    vectors.setup,
    peer_vectors.setup,
    matches.setup,
    contacts.setup,
    mail.setup,
    retention.setup,
)


def installed_extensions() -> list[Extension]:
    """The setup functions other packages registered (the web interface, mainly)."""
    return [entry.load() for entry in sorted(entry_points(group=EXTENSION_GROUP), key=str)]


def create_app(
    config: Config,
    *,
    keys: NodeKeys | None = None,
    extensions: Iterable[Extension] | None = None,
    run_workers: bool = True,
) -> web.Application:
    """Build a node application; nothing is opened until the app starts."""
    app = web.Application(
        middlewares=[request_logging, storage_trouble],
        client_max_size=max(config.federation.max_body_bytes, 1024 * 1024),
    )
    app[appkeys.CONFIG] = config
    app[appkeys.KEYS] = keys or load_keys(config)
    app[appkeys.DATABASE] = Database.open(config.database_url, DomainEvents())
    app[appkeys.HTTP] = _http_client(config)
    app[appkeys.BACKGROUND] = BackgroundWork()
    app.cleanup_ctx.append(_resources)
    app.router.add_get("/healthz", healthz, name="healthz")
    for setup in FEATURES:
        setup(app)
    for extension in installed_extensions() if extensions is None else extensions:
        extension(app)
    if run_workers:
        app.cleanup_ctx.append(app[appkeys.BACKGROUND].lifetime)
    return app


def _http_client(config: Config) -> httpx.AsyncClient:
    federation_settings = config.federation
    timeout = httpx.Timeout(
        federation_settings.read_timeout_seconds,
        connect=federation_settings.connect_timeout_seconds,
    )
    return httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=False,
        headers={"User-Agent": f"zwilling/{VERSION} (+{config.node.base_url})"},
    )


async def _resources(app: web.Application) -> AsyncIterator[None]:
    yield
    await app[appkeys.HTTP].aclose()
    await app[appkeys.DATABASE].dispose()


async def healthz(request: web.Request) -> web.Response:
    """For load balancers and monitoring: 200 when the database answers and took every
    write of the last minute; 503 when it does not answer, or answers but refused a
    write (a full disk), with ``Retry-After`` either way."""
    config = request.app[appkeys.CONFIG]
    database = request.app[appkeys.DATABASE]
    try:
        await database.ping()
    except Exception as exc:
        log.warning("health check failed", extra={"error": str(exc)})
        return _unhealthy({"status": "unavailable", "database": "unreachable"}, config)
    if database.writes_failing(within_seconds=HEALTH_WINDOW_SECONDS):
        assert database.last_write_failure is not None
        last = datetime.fromtimestamp(database.last_write_failure, UTC).isoformat()
        return _unhealthy(
            {"status": "degraded", "database": "writes failing", "last_failure": last}, config
        )
    return web.json_response(
        {"status": "ok", "database": "ok", "node": config.node.slug, "version": VERSION}
    )


HEALTH_RETRY_AFTER_SECONDS = 60
# A refused write keeps the node "degraded" this long: on a full disk some writes
# still fit, so one success says little.
HEALTH_WINDOW_SECONDS = 60.0


@web.middleware
async def storage_trouble(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A federation endpoint whose write the database refused (a full disk) answers
    503 with ``Retry-After``: the peer comes back, nothing was acknowledged. Pages get
    their own translated 503 from the web interface's error pages."""
    try:
        return await handler(request)
    except Exception as exc:
        if not is_storage_trouble(exc):
            raise
        log.warning("request refused: storage unavailable", extra={"path": request.path})
        return web.json_response(
            {"error": "this node cannot store anything right now; retry later"},
            status=503,
            headers={"Retry-After": str(HEALTH_RETRY_AFTER_SECONDS)},
        )


def _unhealthy(body: dict[str, str], config: Config) -> web.Response:
    return web.json_response(
        {**body, "node": config.node.slug},
        status=503,
        headers={"Retry-After": str(HEALTH_RETRY_AFTER_SECONDS)},
    )
