"""Typed keys for what the running application holds (aiohttp ``AppKey``s).

Kept in their own module so that web handlers and node services can reach the
shared objects without importing the app factory.
"""

from __future__ import annotations

import httpx
from aiohttp import web

from federation.inbox import InboxSettings, PinnedKeys
from node.runtime.background import BackgroundWork
from node.runtime.config import Config
from node.runtime.db import Database
from node.runtime.i18n import Catalogues
from node.runtime.keys import NodeKeys
from node.runtime.mail import Mailer

CONFIG = web.AppKey("config", Config)
# The database carries the domain events: features subscribe while the app is built
# (db.events.subscribe), its writing units publish to them after each commit.
DATABASE = web.AppKey("database", Database)
BACKGROUND = web.AppKey("background", BackgroundWork)
HTTP = web.AppKey("http", httpx.AsyncClient)
KEYS = web.AppKey("keys", NodeKeys)
# How signed requests from peers are checked (date window, body limit) and where
# their pinned keys are looked up; set by the node's federation setup.
INBOX_SETTINGS = web.AppKey("inbox_settings", InboxSettings)
PINNED_KEYS = web.AppKey("pinned_keys", PinnedKeys)

# Set by the web interface, which owns the message catalogues; node services that
# mail residents take the mailer from here.
CATALOGUES = web.AppKey("catalogues", Catalogues)
MAILER = web.AppKey("mailer", Mailer)
