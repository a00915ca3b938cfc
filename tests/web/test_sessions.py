"""Sessions and CSRF over real HTTP: tokens, rotation, logout, timeouts, cookies."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select, update

from node.accounts.sessions import hash_token
from node.models import LoginSession, Resident, utcnow
from node.retention.purge import purge
from node.runtime import appkeys
from support.nodes import RunningNode, prepare_node
from support.web import PASSWORD, Visitor, csrf_token
from web.visits.visitor import Visitor as VisitorCookie
from web.visits.visitor import new_visitor, seal, sealing_key


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


async def test_session_starts_at_login_and_dies_at_logout(node: RunningNode) -> None:
    async with Visitor(node) as anna:
        await anna.register("anna@example.org")
        await anna.verify("anna@example.org")
        assert anna.session_cookie() is None and anna.visitor_cookie()
        assert await _session_rows(node) == 0  # registering stored no session
        assert (await anna.login("anna@example.org")).status_code == 303
        logged_in = anna.session_cookie()
        assert logged_in and anna.visitor_cookie() is None  # the session carries it all now
        async with node.app[appkeys.DATABASE].write() as session:
            # Only hashes are stored.
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
        assert cookie.startswith("zw-visitor-oldenburg=")
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
        assert "Secure" not in cookie and "Domain" not in cookie
        # A page needs no new cookie once the visitor has one.
        assert "Set-Cookie" not in (await visitor.get("/")).headers
        await visitor.register("anna@example.org")
        await visitor.verify("anna@example.org")
        cookie = (await visitor.login("anna@example.org")).headers.get_list("Set-Cookie")
        assert any(c.startswith("zw-session-oldenburg=") and "HttpOnly" in c for c in cookie)


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
            assert cookie.startswith("__Host-zw-visitor-cholet=")
            assert "Secure" in cookie and "Domain" not in cookie and "Path=/" in cookie
            assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        await https.stop()


async def _session_rows(node: RunningNode) -> int:
    async with node.app[appkeys.DATABASE].read() as session:
        return int(await session.scalar(select(func.count()).select_from(LoginSession)) or 0)


async def test_pages_without_an_account_store_no_session(node: RunningNode) -> None:
    """Crawlers, link previews and passers-by cost no row: the form token and the
    language choice live in the signed visitor cookie."""
    for path in ("/", "/login", "/register", "/password/forgotten", "/nowhere"):
        async with Visitor(node) as stranger:
            await stranger.get(path)
    async with Visitor(node, language="de") as visitor:
        token = await visitor.token("/")
        chosen = await visitor.client.post(
            "/language", data={"csrf_token": token, "language": "fr", "next": "/login"}
        )
        assert chosen.status_code == 303 and visitor.visitor_cookie()
        page = await visitor.get("/login")
        assert '<html lang="fr">' in page.text
        assert csrf_token(page.text) == token  # the same token, carried by the cookie
        assert (await visitor.register("anna@example.org")).status_code == 200
    assert await _session_rows(node) == 0
    # The choice made before logging in is carried into the session.
    async with Visitor(node, language="de") as anna:
        await anna.verify("anna@example.org")
        token = await anna.token("/")
        await anna.client.post("/language", data={"csrf_token": token, "language": "fr"})
        assert (await anna.login("anna@example.org")).status_code == 303
        async with node.app[appkeys.DATABASE].read() as session:
            rows = list(await session.scalars(select(LoginSession)))
        assert [row.language for row in rows] == ["fr"]


async def test_a_forged_or_stale_visitor_cookie_is_worthless(node: RunningNode) -> None:
    name = "zw-visitor-oldenburg"
    key = sealing_key(node.app[appkeys.KEYS].secret)
    data = {"email": "anna@example.org", "password": PASSWORD}
    async with Visitor(node) as visitor:
        genuine = await visitor.token("/login")
        sealed = visitor.visitor_cookie()
        assert sealed
        # Another token under the same seal: refused, and a fresh token is handed out.
        payload, _, mac = sealed.rpartition(".")
        forged = payload.replace(genuine, "A" * len(genuine)) + "." + mac
        visitor.client.cookies.set(name, forged)
        refused = await visitor.client.post("/login", data={**data, "csrf_token": "A" * 43})
        assert refused.status_code == 403
        assert csrf_token((await visitor.get("/login")).text) not in (genuine, "A" * 43)
        # Sealed with another key (another node's secret): worthless.
        foreign = VisitorCookie("B" * 43, None, int(utcnow().timestamp()))
        visitor.client.cookies.set(name, seal(foreign, b"k" * 32))
        response = await visitor.client.post("/login", data={**data, "csrf_token": "B" * 43})
        assert response.status_code == 403
        # Genuinely sealed, but older than a session may live: a new token is issued.
        old = new_visitor(utcnow() - timedelta(hours=2))
        visitor.client.cookies.set(name, seal(old, key))
        stale = await visitor.client.post("/login", data={**data, "csrf_token": old.csrf_token})
        assert stale.status_code == 403
        fresh = new_visitor(utcnow())
        visitor.client.cookies.set(name, seal(fresh, key))
        accepted = await visitor.client.post(
            "/login", data={**data, "csrf_token": fresh.csrf_token}
        )
        assert accepted.status_code == 400  # past CSRF: the form itself answers
    assert await _session_rows(node) == 0


async def test_timed_out_sessions_are_purged(node: RunningNode) -> None:
    async with Visitor(node) as anna:
        await anna.signed_up("anna@example.org")
    async with Visitor(node) as bert:
        await bert.signed_up("bert@example.org")
        token = bert.session_cookie()
        assert token
    async with node.app[appkeys.DATABASE].write() as session:
        await session.execute(
            update(LoginSession)
            .where(LoginSession.id != hash_token(token))
            .values(last_seen_at=utcnow() - timedelta(minutes=6))
        )
    config = node.config
    result = await purge(
        node.app[appkeys.DATABASE], config.retention, utcnow(), sessions=config.sessions
    )
    assert result.sessions == 1
    async with node.app[appkeys.DATABASE].read() as session:
        assert [row.id for row in await session.scalars(select(LoginSession))] == [
            hash_token(token)
        ]
