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
from importlib.metadata import entry_points

import httpx
from aiohttp import web

from node import VERSION
from node.contacts import setup as contacts
from node.federation import setup as federation
from node.mail import setup as mail
from node.matches import setup as matches
from node.metrics import setup as metrics
from node.peers import setup as peers
from node.retention import setup as retention
from node.runtime import appkeys
from node.runtime.background import BackgroundWork
from node.runtime.config import Config
from node.runtime.db import Database
from node.runtime.events import DomainEvents
from node.runtime.keys import NodeKeys, load_keys
from node.runtime.logs import request_logging
from node.vectors import setup as vectors

log = logging.getLogger(__name__)

Extension = Callable[[web.Application], None]
EXTENSION_GROUP = "zwilling.extensions"
FEATURES: tuple[Extension, ...] = (
    metrics.setup,
    peers.setup,
    federation.setup,
    vectors.setup,
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
        middlewares=[request_logging],
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
    """Liveness for load balancers: 200 when the database answers, 503 otherwise."""
    config = request.app[appkeys.CONFIG]
    try:
        await request.app[appkeys.DATABASE].ping()
    except Exception as exc:
        log.warning("health check failed", extra={"error": str(exc)})
        return web.json_response(
            {"status": "unavailable", "database": "unreachable", "node": config.node.slug},
            status=503,
        )
    return web.json_response(
        {"status": "ok", "database": "ok", "node": config.node.slug, "version": VERSION}
    )
