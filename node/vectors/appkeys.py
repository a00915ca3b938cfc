"""Typed keys for what the vector exchange keeps in the running app."""

from __future__ import annotations

from aiohttp import web

from node.vectors.activities import Publisher
from node.vectors.remote import VectorStats

PUBLISHER = web.AppKey("publisher", Publisher)
VECTOR_STATS = web.AppKey("vector_stats", VectorStats)
