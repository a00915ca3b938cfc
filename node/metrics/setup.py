"""Metrics as one feature: the per-app instruments, the request counter and the
endpoint, all only when ``[metrics]`` asks for them.

Without a token and without a port of its own nothing is added: no instruments, no
middleware, and ``GET /metrics`` is an ordinary 404.
"""

from __future__ import annotations

from aiohttp import web

from node.metrics import endpoints
from node.metrics.appkeys import METRICS
from node.metrics.instruments import NodeMetrics
from node.runtime import appkeys


def setup(app: web.Application) -> None:
    config = app[appkeys.CONFIG]
    settings = config.metrics
    if settings.bearer_token is None and settings.listen_port is None:
        return
    app[METRICS] = NodeMetrics()
    app.middlewares.append(endpoints.count_requests)
    serve = endpoints.serving(app, settings.bearer_token)
    if settings.listen_port is None:
        app.router.add_get("/metrics", serve, name="metrics")
    else:
        app.cleanup_ctx.append(
            endpoints.separate_site(serve, config.listen.host, settings.listen_port)
        )
