"""The one application factory, used by the CLI, the demo and the tests.

``create_app`` wires the node's own parts (storage, HTTP client, federation,
background workers). What a person sees lives in the ``web`` package, which
depends on ``node`` and not the other way round: it plugs itself in through the
``zwilling.extensions`` entry point, so a node can also run without pages.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable
from importlib.metadata import entry_points

import httpx
from aiohttp import web

from node.runtime import appkeys
from node.runtime.config import Config
from node.runtime.db import create_engine, ping, session_factory
from node.runtime.keys import NodeKeys, load_keys
from node.runtime.logs import request_logging

log = logging.getLogger(__name__)

Extension = Callable[[web.Application], None]
EXTENSION_GROUP = "zwilling.extensions"
VERSION = "0.1.0"


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
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_http_client)
    app.router.add_get("/healthz", healthz, name="healthz")
    for setup in _node_parts(run_workers):
        setup(app)
    for extension in installed_extensions() if extensions is None else extensions:
        extension(app)
    return app


def _node_parts(run_workers: bool) -> list[Extension]:
    """Node features that register routes, inbox handlers and workers on the app."""
    from node.contacts import handlers as contact_handlers
    from node.federation import discovery_endpoints as discovery
    from node.federation import inbox, key_rotation
    from node.federation import peer_refresh as peers
    from node.federation import workers_setup as workers
    from node.matches import worker as matching_worker
    from node.vectors import setup as vector_exchange

    parts: list[Extension] = [peers.setup, discovery.setup, inbox.setup, key_rotation.setup]
    parts.append(contact_handlers.setup)
    parts.append(vector_exchange.setup)
    if run_workers:
        parts.append(workers.setup)
        parts.append(matching_worker.setup)
        parts.append(contact_handlers.setup_workers)
    return parts


async def _database(app: web.Application) -> AsyncIterator[None]:
    engine = create_engine(app[appkeys.CONFIG].database_url)
    app[appkeys.ENGINE] = engine
    app[appkeys.SESSIONS] = session_factory(engine)
    yield
    await engine.dispose()


async def _http_client(app: web.Application) -> AsyncIterator[None]:
    federation = app[appkeys.CONFIG].federation
    timeout = httpx.Timeout(
        federation.read_timeout_seconds, connect=federation.connect_timeout_seconds
    )
    async with httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=False,
        headers={"User-Agent": f"zwilling/{VERSION} (+{app[appkeys.CONFIG].node.base_url})"},
    ) as client:
        app[appkeys.HTTP] = client
        yield


async def healthz(request: web.Request) -> web.Response:
    """Liveness for load balancers: 200 when the database answers, 503 otherwise."""
    config = request.app[appkeys.CONFIG]
    try:
        await ping(request.app[appkeys.ENGINE])
    except Exception as exc:
        log.warning("health check failed", extra={"error": str(exc)})
        return web.json_response(
            {"status": "unavailable", "database": "unreachable", "node": config.node.slug},
            status=503,
        )
    return web.json_response(
        {"status": "ok", "database": "ok", "node": config.node.slug, "version": VERSION}
    )
