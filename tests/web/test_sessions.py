"""Sessions and CSRF over real HTTP: tokens, rotation, logout, timeouts, cookies."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select, update

from node.accounts.sessions import hash_token
from node.models import LoginSession, Resident, utcnow
from node.runtime import appkeys
from support.nodes import RunningNode, prepare_node
from support.web import PASSWORD, Visitor


@pytest.fixture
def node_overrides() -> dict[str, dict[str, object]]:
    return {"sessions": {"idle_timeout_minutes": 5, "absolute_timeout_hours": 1}}


async def test_missing_or_wrong_csrf_token_is_refused(node: RunningNode) -> None:
    async with Visitor(node, language="fr") as visitor:
        await visitor.get("/register")
        data = {
            "email": "anna@example.org",
            "password": PASSWORD,
            "display_name": "Anna",
            "kind": "person",
            "age_confirmed": "1",
        }
        missing = await visitor.client.post("/register", data=data)
        assert missing.status_code == 403
        assert "Ce formulaire a expiré" in missing.text and '<html lang="fr">' in missing.text
        wrong = await visitor.client.post("/register", data={**data, "csrf_token": "x" * 43})
        assert wrong.status_code == 403
        for path in ("/login", "/logout", "/language", "/settings/delete", "/profile"):
            assert (await visitor.client.post(path, data={})).status_code == 403, path
    # Without any session at all (a forged cross-site form) it is refused too.
    async with Visitor(node) as stranger:
        response = await stranger.client.post("/login", data={"csrf_token": "guess"})
        assert response.status_code == 403
    async with node.app[appkeys.DATABASE].write() as session:
        assert await session.scalar(select(func.count()).select_from(Resident)) == 0


async def test_session_rotates_at_login_and_dies_at_logout(node: RunningNode) -> None:
    async with Visitor(node) as anna:
        await anna.register("anna@example.org")
        await anna.verify("anna@example.org")
        anonymous = anna.session_cookie()
        assert anonymous
        assert (await anna.login("anna@example.org")).status_code == 303
        logged_in = anna.session_cookie()
        assert logged_in and logged_in != anonymous
        async with node.app[appkeys.DATABASE].write() as session:
            # Only hashes are stored; the anonymous session is gone.
            assert await session.get(LoginSession, hash_token(anonymous)) is None
            row = await session.get(LoginSession, hash_token(logged_in))
            assert row is not None and row.resident_id is not None
            assert await session.get(LoginSession, logged_in) is None

        assert (await anna.submit("/logout", {}, page="/dashboard")).status_code == 303
    # Someone who kept the old cookie gets nothing with it.
    async with Visitor(node) as thief:
        thief.client.cookies.set("zw-session-oldenburg", logged_in)
        response = await thief.get("/dashboard")
        assert response.status_code == 303 and response.headers["Location"].startswith("/login")


async def test_idle_timeout_ends_the_session(node: RunningNode) -> None:
    async with Visitor(node) as anna:
        await anna.signed_up("anna@example.org")
        assert (await anna.get("/settings")).status_code == 200
        token = anna.session_cookie()
        assert token
        async with node.app[appkeys.DATABASE].write() as session:
            await session.execute(
                update(LoginSession)
                .where(LoginSession.id == hash_token(token))
                .values(last_seen_at=utcnow() - timedelta(minutes=6))
            )
        response = await anna.get("/settings")
        assert response.status_code == 303
        location = urlsplit(response.headers["Location"])
        assert location.path == "/login" and parse_qs(location.query) == {"next": ["/settings"]}
        async with node.app[appkeys.DATABASE].write() as session:
            assert await session.get(LoginSession, hash_token(token)) is None


async def test_absolute_timeout_ends_an_active_session(node: RunningNode) -> None:
    async with Visitor(node) as anna:
        await anna.signed_up("anna@example.org")
        token = anna.session_cookie()
        assert token
        async with node.app[appkeys.DATABASE].write() as session:
            await session.execute(
                update(LoginSession).values(created_at=utcnow() - timedelta(minutes=61))
            )
        assert (await anna.get("/dashboard")).status_code == 303


async def test_cookie_flags(node: RunningNode) -> None:
    async with Visitor(node) as visitor:
        response = await visitor.get("/")
        cookie = response.headers["Set-Cookie"]
        assert cookie.startswith("zw-session-oldenburg=")
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
        assert "Secure" not in cookie and "Domain" not in cookie
        # A page needs no new cookie once the session exists.
        assert "Set-Cookie" not in (await visitor.get("/")).headers


async def test_https_nodes_use_secure_host_prefixed_cookies(
    tmp_path: Path, database_url: str
) -> None:
    https = await prepare_node(
        tmp_path, "cholet", database_url, overrides={"node": {"base_url": "https://cholet.example"}}
    )
    await https.start(run_workers=False)
    try:
        async with Visitor(https) as visitor:
            response = await visitor.client.get(f"http://127.0.0.1:{https.config.listen.port}/")
            cookie = response.headers["Set-Cookie"]
            assert cookie.startswith("__Host-zw-session-cholet=")
            assert "Secure" in cookie and "Domain" not in cookie and "Path=/" in cookie
            assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        await https.stop()
