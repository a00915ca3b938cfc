"""Typed key for the node's metrics (absent when the ``[metrics]`` section is empty)."""

from __future__ import annotations

from aiohttp import web

from node.metrics.instruments import NodeMetrics

METRICS = web.AppKey("metrics", NodeMetrics)
