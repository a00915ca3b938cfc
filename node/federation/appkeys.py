"""Typed key for what the node's side of the protocol holds in the running app."""

from __future__ import annotations

import asyncio

from aiohttp import web

# Set when rows were queued: the delivery worker looks now instead of at its next poll.
DELIVERY_WAKE = web.AppKey("delivery_wake", asyncio.Event)
