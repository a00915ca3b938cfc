"""Typed keys for what the partner cities' vectors keep in the running app."""

from __future__ import annotations

from aiohttp import web

from node.peer_vectors.store import VectorStats

VECTOR_STATS = web.AppKey("vector_stats", VectorStats)
