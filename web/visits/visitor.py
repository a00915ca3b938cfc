"""What a visitor without an account carries between pages: a signed cookie, no row.

The login and registration forms need a CSRF token before anyone is logged in, and
a visitor may choose a language. Keeping either in the database would turn every
first page view (a crawler, a link preview, a passer-by) into a write and a row to
purge. Both live in a cookie instead, sealed with an HMAC under a key derived from
the node secret: the visitor can read it but not forge or alter it, and the node
keeps nothing. A database session exists only from the moment someone logs in.

The seal binds the value to its issue time; a cookie older than the absolute
session timeout is ignored like a missing one (a fresh token is issued). When the
node's base URL is https the cookie carries the ``__Host-`` prefix, so no other
host of the city's domain can plant one (the weakness of a token kept in a cookie).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from node.runtime.i18n import LANGUAGES

_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_MAX_COOKIE = 256


@dataclass(frozen=True, slots=True)
class Visitor:
    """A visitor's form token and language choice, and when the token was issued."""

    csrf_token: str
    language: str | None
    issued: int  # seconds since the epoch

    def choosing(self, language: str) -> Visitor:
        return replace(self, language=language)


def new_visitor(now: datetime, language: str | None = None) -> Visitor:
    return Visitor(secrets.token_urlsafe(32), language, int(now.timestamp()))


def sealing_key(node_secret: bytes) -> bytes:
    """A key of its own, so that a cookie's MAC can never stand in for a pseudonym."""
    return hmac.new(node_secret, b"visitor-cookie", hashlib.sha256).digest()


def _mac(key: bytes, payload: str) -> str:
    digest = hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def seal(visitor: Visitor, key: bytes) -> str:
    payload = f"{visitor.csrf_token}.{visitor.language or '-'}.{visitor.issued}"
    return f"{payload}.{_mac(key, payload)}"


def unseal(value: str, key: bytes, *, now: datetime, max_age: timedelta) -> Visitor | None:
    """The visitor a cookie describes; None when it is malformed, forged or too old."""
    if not value or len(value) > _MAX_COOKIE or not value.isascii():
        return None
    payload, _, mac = value.rpartition(".")
    if not hmac.compare_digest(mac.encode("ascii"), _mac(key, payload).encode("ascii")):
        return None
    parts = payload.split(".")
    if len(parts) != 3:
        return None
    token, language, issued_text = parts
    if not token or not set(token) <= _TOKEN_CHARS or not issued_text.isdigit():
        return None
    issued = int(issued_text)
    age = now.timestamp() - issued
    if age < -60 or age > max_age.total_seconds():
        return None
    return Visitor(token, language if language in LANGUAGES else None, issued)
