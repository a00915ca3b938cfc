"""Typed keys for what the web interface keeps on the application and the request."""

from __future__ import annotations

from dataclasses import dataclass

import jinja2
from aiohttp import web

from node.models import LoginSession, Resident
from node.runtime.i18n import Translator


@dataclass(slots=True)
class PageState:
    """What every page request knows about its visitor, filled by the middlewares.

    ``new_token`` is set when a session was opened or replaced during the request,
    so that the response carries the new cookie; ``drop_cookie`` when the cookie
    named a session that no longer exists.
    """

    language: str
    translator: Translator
    login_session: LoginSession | None = None
    resident: Resident | None = None
    new_token: str | None = None
    drop_cookie: bool = False

    @property
    def csrf_token(self) -> str | None:
        return self.login_session.csrf_token if self.login_session else None


@dataclass(slots=True)
class SessionHousekeeping:
    """When expired sessions were last swept (monotonic seconds)."""

    last_purge: float = 0.0


TEMPLATES = web.AppKey("web_templates", jinja2.Environment)
HOUSEKEEPING = web.AppKey("web_session_housekeeping", SessionHousekeeping)
PAGE = web.RequestKey("web_page", PageState)
