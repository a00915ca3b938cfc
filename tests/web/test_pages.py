"""Every page in every language, language negotiation, branding, security headers,
error pages and escaping."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from node.models import Resident
from node.runtime import appkeys
from support.nodes import RunningNode, prepare_node
from support.web import PASSWORD, Visitor, csrf_token, last_mail_to, link_in

ANONYMOUS_PAGES = ["/", "/register", "/login", "/password/forgotten"]
RESIDENT_PAGES = ["/dashboard", "/profile", "/settings"]
LANG = re.compile(r'<html lang="([a-z]+)">')


def page_language(html: str) -> str:
    match = LANG.search(html)
    assert match
    return match.group(1)


@pytest.mark.parametrize("language", ["de", "fr", "en"])
async def test_every_page_renders_in_each_language(node: RunningNode, language: str) -> None:
    async with Visitor(node, language=language) as visitor:
        for path in ANONYMOUS_PAGES:
            response = await visitor.get(path)
            assert response.status_code == 200, path
            assert page_language(response.text) == language, path
        await visitor.register("anna@example.org")
        link = link_in(last_mail_to(node, "anna@example.org"), "/verify")
        confirm = await visitor.get(link)
        assert confirm.status_code == 200 and page_language(confirm.text) == language
        await visitor.verify("anna@example.org")
        await visitor.login("anna@example.org")
        wizard = await visitor.get("/profile/wizard")
        assert wizard.status_code == 200 and page_language(wizard.text) == language
        form = {
            "interests": "sport.cycling",
            "spoken-1-language": "de",
            "spoken-1-level": "C1",
            "age_band": "20-29",
        }
        assert (await visitor.submit("/profile", form, page="/profile/wizard")).status_code == 303
        for path in RESIDENT_PAGES:
            response = await visitor.get(path)
            assert response.status_code == 200, path
            assert page_language(response.text) == language, path
        await visitor.submit("/password/forgotten", {"email": "anna@example.org"})
        reset = await visitor.get(
            link_in(last_mail_to(node, "anna@example.org"), "/password/reset")
        )
        assert reset.status_code == 200 and page_language(reset.text) == language


async def test_accept_language_then_remembered_choice(node: RunningNode) -> None:
    async with Visitor(node, language="fr-CH, en;q=0.8") as visitor:
        assert page_language((await visitor.get("/")).text) == "fr"
        visitor.client.headers["Accept-Language"] = "pt-BR, en;q=0.5"
        assert page_language((await visitor.get("/")).text) == "en"
        visitor.client.headers["Accept-Language"] = "pt, es;q=0.5"
        assert page_language((await visitor.get("/")).text) == "de"  # the node's default
        visitor.client.headers["Accept-Language"] = "garbage;;q=x,,*"
        assert page_language((await visitor.get("/")).text) == "de"

        response = await visitor.submit("/language", {"language": "fr", "next": "/login"}, page="/")
        assert response.status_code == 303 and response.headers["Location"] == "/login"
        visitor.client.headers["Accept-Language"] = "en"
        assert page_language((await visitor.get("/login")).text) == "fr"

        # A foreign "next" never leads off the site.
        response = await visitor.submit(
            "/language", {"language": "en", "next": "//evil.example/"}, page="/"
        )
        assert response.headers["Location"] == "/"

        # Logged in, the choice is kept on the account, for other browsers and the mails.
        await visitor.signed_up("anna@example.org")
        await visitor.submit("/language", {"language": "fr"}, page="/dashboard")
    async with node.app[appkeys.DATABASE].write() as session:
        resident = await session.get(Resident, 1)
        assert resident is not None and resident.language == "fr"
    async with Visitor(node, language="de") as other_browser:
        await other_browser.login("anna@example.org", PASSWORD)
        assert page_language((await other_browser.get("/dashboard")).text) == "fr"


async def test_branding_and_frame(node: RunningNode) -> None:
    async with Visitor(node) as visitor:
        page = (await visitor.get("/")).text
        assert "<title>" in page and "MeinZwilling Oldenburg</title>" in page
        assert 'class="brand__name">MeinZwilling<' in page
        assert "Interessenliste Version" in page
        assert 'href="#main"' in page and 'id="main"' in page
        theme = await visitor.get("/theme.css")
        assert theme.headers["Content-Type"].startswith("text/css")
        assert f"--primary: {node.config.branding.primary_colour}" in theme.text
        assert (await visitor.get("/static/site.css")).status_code == 200


async def test_cholet_is_monjumeau_in_french(tmp_path: Path, database_url: str) -> None:
    cholet = await prepare_node(
        tmp_path, "cholet", database_url, overrides={"branding": {"primary_colour": "#a4123f"}}
    )
    await cholet.start(run_workers=False)
    try:
        async with Visitor(cholet, language=None) as visitor:
            page = (await visitor.get("/")).text
            assert page_language(page) == "fr" and "MonJumeau Cholet</title>" in page
            assert "--primary: #a4123f" in (await visitor.get("/theme.css")).text
            register = (await visitor.get("/register")).text
            assert "au moins 15 ans" in register
    finally:
        await cholet.stop()


async def test_security_headers(node: RunningNode) -> None:
    async with Visitor(node) as visitor:
        for path in ["/", "/login", "/does-not-exist"]:
            response = await visitor.get(path, headers={"Accept": "text/html"})
            policy = response.headers["Content-Security-Policy"]
            assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
            assert "'unsafe-inline'" not in policy
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Referrer-Policy"] == "same-origin"
            assert response.headers["Cache-Control"] == "no-store"
        page = (await visitor.get("/")).text
        assert "<script" not in page and "style=" not in page


async def test_error_pages_are_translated_and_plain(node: RunningNode) -> None:
    async with Visitor(node, language="fr") as visitor:
        missing = await visitor.get("/nowhere", headers={"Accept": "text/html"})
        assert missing.status_code == 404 and "Page introuvable" in missing.text
        wrong_method = await visitor.client.put("/login")
        assert wrong_method.status_code == 405 and "Impossible de cette façon" in wrong_method.text
        assert "Allow" in wrong_method.headers
        token = await visitor.token("/login")
        huge = await visitor.client.post(
            "/login", data={"csrf_token": token, "email": "x" * (2 * 1024 * 1024)}
        )
        assert huge.status_code == 413 and "Trop de données" in huge.text
        for response in (missing, wrong_method, huge):
            assert "Traceback" not in response.text
    # Not a page and not a browser: no HTML error page.
    async with Visitor(node) as client:
        response = await client.get("/nowhere", headers={"Accept": "application/json"})
        assert response.status_code == 404 and "<html" not in response.text


async def test_about_text_is_escaped(node: RunningNode) -> None:
    async with Visitor(node) as anna:
        await anna.with_profile(
            "anna@example.org", about='<script>alert("x")</script> & <b>bold</b>'
        )
        page = (await anna.get("/profile")).text
        assert "<script>" not in page and "<b>bold" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold" in page


async def test_display_name_is_escaped_in_greeting(node: RunningNode) -> None:
    async with Visitor(node) as anna:
        await anna.signed_up("anna@example.org", name="<i>Anna</i>")
        page = (await anna.get("/dashboard")).text
        assert "&lt;i&gt;Anna&lt;/i&gt;" in page and "<i>Anna" not in page


async def test_forms_use_standard_autocomplete_tokens(node: RunningNode) -> None:
    async with Visitor(node) as visitor:
        register = (await visitor.get("/register")).text
        for token in (
            'autocomplete="email"',
            'autocomplete="new-password"',
            'autocomplete="nickname"',
        ):
            assert token in register
        login = (await visitor.get("/login")).text
        assert 'autocomplete="current-password"' in login and 'autocomplete="email"' in login
        # Every input that is not hidden has a label.
        for html in (register, login):
            ids = re.findall(r'<input id="([^"]+)"', html)
            for control in ids:
                assert f'for="{control}"' in html, control
        csrf_token(register)


async def test_dashboard_is_honest_about_its_state(node: RunningNode) -> None:
    async with Visitor(node, language="en") as anna:
        await anna.signed_up("anna@example.org")
        page = (await anna.get("/dashboard")).text
        assert "Your profile is not complete yet" in page
        assert "No partner city is connected yet" in page
        assert "No twin yet" in page


async def test_an_unexpected_failure_is_a_plain_translated_500(
    node: RunningNode, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from web.pages import dashboard

    async def broken(*args: object) -> None:
        raise RuntimeError("secret internal detail")

    async with Visitor(node, language="en") as anna:
        await anna.signed_up("anna@example.org")
        monkeypatch.setattr(dashboard, "dashboard_state", broken)
        response = await anna.get("/dashboard")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert "secret internal detail" not in response.text and "Traceback" not in response.text
    assert response.headers["Content-Security-Policy"]
    assert "page failed" in caplog.text and "secret internal detail" in caplog.text
