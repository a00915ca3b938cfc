"""Typed keys for what the running application holds (aiohttp ``AppKey``s).

Kept in their own module so that web handlers and node services can reach the
shared objects without importing the app factory.
"""

from __future__ import annotations

import httpx
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from .config import Config
from .keys import NodeKeys

CONFIG = web.AppKey("config", Config)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
HTTP = web.AppKey("http", httpx.AsyncClient)
KEYS = web.AppKey("keys", NodeKeys)
