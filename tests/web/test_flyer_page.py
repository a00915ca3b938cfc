"""The printable flyer as a page: every language and size, the node's name, colours
and registration address, a QR code as inline SVG under the strict CSP, clear 400s
for a language or size that does not exist, and links from the start page."""

from __future__ import annotations

import re

import pytest

from node.runtime import appkeys
from support.nodes import RunningNode
from support.web import Visitor
from web.security import CONTENT_SECURITY_POLICY

SCAN = {
    "de": "Scannen und registrieren",
    "fr": "Scannez pour vous inscrire",
    "en": "Scan to register",
}
PROMISE = {
    "de": "Ihr Name und Ihre E-Mail-Adresse bleiben in Oldenburg",
    "fr": "Votre nom et votre adresse e-mail restent à Oldenburg",
    "en": "Your name and e-mail address stay in Oldenburg",
}


@pytest.mark.parametrize("language", ["de", "fr", "en"])
@pytest.mark.parametrize("size", ["a4", "a5"])
async def test_flyer_in_each_language_and_size(node: RunningNode, language: str, size: str) -> None:
    async with Visitor(node, language="de") as visitor:
        page = await visitor.get(f"/flyer?lang={language}&size={size}")
    assert page.status_code == 200
    html = page.text
    assert f'<html lang="{language}" class="flyer-page flyer-page--{size}">' in html
    assert node.app is not None
    title = node.app[appkeys.CATALOGUES].get(language).gettext("Find your twin in the partner city")
    assert f'<h1 class="flyer__title">{title}</h1>' in html
    assert SCAN[language] in html and PROMISE[language] in html
    assert '<p class="flyer__portal">MeinZwilling</p>' in html
    assert f'<main class="flyer flyer--{size}">' in html
    assert f"{node.url}/register" in html
    assert '<link rel="stylesheet" href="/theme.css">' in html
    assert '<link rel="stylesheet" href="/static/flyer.css">' in html
    # The QR code is markup in the page: no script, no inline style, the usual CSP.
    svg = re.search(r"<svg [^>]*>", html)
    assert svg and 'class="qr__code"' in svg.group(0) and "viewBox=" in svg.group(0)
    assert "<script" not in html and "style=" not in html and "<style" not in html
    assert page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


async def test_flyer_defaults_to_the_page_language_and_a4(node: RunningNode) -> None:
    async with Visitor(node, language="fr") as visitor:
        page = await visitor.get("/flyer")
    assert page.status_code == 200
    assert '<html lang="fr" class="flyer-page flyer-page--a4">' in page.text


@pytest.mark.parametrize("query", ["lang=es", "size=a3", "lang=de&size=A4%3Cb%3E", "lang="])
async def test_a_flyer_that_does_not_exist_is_a_clear_400(node: RunningNode, query: str) -> None:
    async with Visitor(node, language="de") as visitor:
        page = await visitor.get(f"/flyer?{query}")
    assert page.status_code == 400
    assert "Diesen Flyer gibt es nicht" in page.text
    assert "in den Größen A4 und A5" in page.text


async def test_the_stylesheet_prints_a4_and_a5(node: RunningNode) -> None:
    async with Visitor(node) as visitor:
        css = await visitor.get("/static/flyer.css")
        landing = await visitor.get("/")
        login = await visitor.get("/login")
    assert css.status_code == 200
    assert "size: A4" in css.text and "size: A5" in css.text
    assert 'href="/flyer"' in landing.text.split('<footer class="site-footer">')[1]
    assert 'href="/flyer"' not in login.text
