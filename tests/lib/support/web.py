"""Driving the web interface the way a browser does: a cookie jar, forms with their
CSRF token taken from the page, and mails read from the file mail backend."""

from __future__ import annotations

import re
from collections.abc import Mapping
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.lib.support.mail import mail_settled
from tests.lib.support.nodes import RunningNode

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "lantern orchard seventeen"

PROFILE_FORM = {
    "interests": ["sport.cycling", "music_making.choir"],
    "spoken-1-language": "de",
    "spoken-1-level": "native",
    "spoken-2-language": "fr",
    "spoken-2-level": "B1",
    "learning-1": "es",
    "age_band": "30-39",
    "occupation": "23",
    "about": "Ich fahre gern Rad.",
    "show_about": "1",
}


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def without_csrf(html: str) -> str:
    """A page with its per-session token blanked, to compare two answers."""
    return CSRF.sub('name="csrf_token" value=""', html)


class Visitor:
    """One browser: its own cookie jar and preferred language."""

    def __init__(self, node: RunningNode, language: str | None = "de") -> None:
        headers = {"Accept-Language": language} if language else {}
        self.node = node
        self.client = httpx.AsyncClient(
            base_url=node.url,
            headers=headers,
            follow_redirects=False,
            timeout=30,
            event_hooks={"response": [self._mail_settled]},
        )

    async def _mail_settled(self, _response: httpx.Response) -> None:
        """Pages only queue mail: after each answer, let the node's mail worker send
        what is due, so that the mail folder shows what the page caused."""
        await mail_settled(self.node)

    async def __aenter__(self) -> Visitor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, **kwargs)

    async def token(self, page: str = "/") -> str:
        response = await self.client.get(page)
        assert response.status_code == 200, (page, response.status_code)
        return csrf_token(response.text)

    async def submit(
        self, path: str, data: Mapping[str, Any], *, page: str | None = None
    ) -> httpx.Response:
        """POST a form with the CSRF token of ``page`` (default: the form's own path)."""
        token = await self.token(page or path)
        return await self.client.post(path, data={**data, "csrf_token": token})

    async def register(
        self, email: str, password: str = PASSWORD, name: str = "Anna", kind: str = "person"
    ) -> httpx.Response:
        data = {"email": email, "password": password, "display_name": name, "kind": kind}
        data["age_confirmed" if kind == "person" else "holder_confirmed"] = "1"
        return await self.submit("/register", data)

    async def verify(self, email: str) -> httpx.Response:
        link = link_in(last_mail_to(self.node, email), "/verify")
        page = await self.client.get(link)
        assert page.status_code == 200, page.text
        token = re.search(r'name="token" value="([^"]+)"', page.text)
        assert token
        return await self.client.post(
            "/verify", data={"csrf_token": csrf_token(page.text), "token": token.group(1)}
        )

    async def login(self, email: str, password: str = PASSWORD) -> httpx.Response:
        return await self.submit("/login", {"email": email, "password": password})

    async def signed_up(self, email: str, password: str = PASSWORD, **kwargs: str) -> None:
        """Register, confirm and log in."""
        assert (await self.register(email, password, **kwargs)).status_code == 200
        assert (await self.verify(email)).status_code == 200
        assert (await self.login(email, password)).status_code == 303

    async def with_profile(self, email: str, **overrides: Any) -> None:
        """Register, confirm, log in and save a profile through the edit page."""
        await self.signed_up(email)
        response = await self.submit(
            "/profile", {**PROFILE_FORM, **overrides}, page="/profile/wizard"
        )
        assert response.status_code == 303, response.text

    def session_cookie(self, kind: str = "session") -> str | None:
        for cookie in self.client.cookies.jar:
            if cookie.name.endswith(f"zw-{kind}-{self.node.config.node.slug}"):
                return cookie.value
        return None

    def visitor_cookie(self) -> str | None:
        return self.session_cookie("visitor")


def mail_dir(node: RunningNode) -> Path:
    return node.config.path(node.config.mail.directory)


def mails_to(node: RunningNode, address: str) -> list[EmailMessage]:
    folder = mail_dir(node)
    if not folder.exists():
        return []
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        if message["To"] == address:
            found.append(message)
    return found


def last_mail_to(node: RunningNode, address: str) -> EmailMessage:
    found = mails_to(node, address)
    assert found, f"no mail to {address}"
    return found[-1]


def body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


def link_in(message: EmailMessage, path: str) -> str:
    """The path and query of the first link in a mail that leads to ``path``."""
    for url in re.findall(r"https?://\S+", body(message)):
        parts = urlsplit(url)
        if parts.path == path:
            return f"{parts.path}?{parts.query}" if parts.query else parts.path
    raise AssertionError(f"no link to {path} in: {body(message)}")
