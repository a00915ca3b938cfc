"""Typed keys for what the web interface keeps on the application and the request."""

from __future__ import annotations

from dataclasses import dataclass

import jinja2
from aiohttp import web

from node.contacts.notices import Unseen
from node.models import LoginSession, Resident
from node.runtime.i18n import Translator
from web.visits.visitor import Visitor


@dataclass(slots=True)
class PageState:
    """What every page request knows about its visitor, filled by the middlewares.

    ``login_session`` exists only for someone logged in; a visitor without an
    account is described by ``visitor`` (a signed cookie, see web/visitor.py).
    ``new_token`` is set when a session was opened or replaced during the request,
    so that the response carries the new cookie; ``drop_cookie`` when the cookie
    named a session that no longer exists; ``visitor_changed`` when the visitor
    cookie must be (re)sent. ``unseen`` holds the resident's unseen notices for the
    page frame once read (``unseen_read``), in the same unit as the session.
    """

    language: str
    translator: Translator
    login_session: LoginSession | None = None
    resident: Resident | None = None
    visitor: Visitor | None = None
    new_token: str | None = None
    drop_cookie: bool = False
    visitor_changed: bool = False
    unseen: Unseen | None = None
    unseen_read: bool = False

    @property
    def csrf_token(self) -> str | None:
        if self.login_session is not None:
            return self.login_session.csrf_token
        return self.visitor.csrf_token if self.visitor else None


TEMPLATES = web.AppKey("web_templates", jinja2.Environment)
VISITOR_KEY = web.AppKey("web_visitor_key", bytes)
PAGE = web.RequestKey("web_page", PageState)
