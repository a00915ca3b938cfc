"""Typed keys for what the vector exchange's publishing side keeps in the running app."""

from __future__ import annotations

from aiohttp import web

from node.vectors.activities import Publisher

PUBLISHER = web.AppKey("publisher", Publisher)
