"""A printable flyer for the node: portal, city colours, what it is, the privacy
promise and a QR code that opens the registration page.

Cities hand the flyer out at town-hall counters, in schools and clubs, so it is a
page of its own (no navigation, no session, no form) in any of the three languages
and in A4 or A5, whatever the language of the person printing it. The QR code is
drawn as inline SVG markup by segno: no image file, no script and no inline style, so
the Content-Security-Policy stays as strict as on every other page.
"""

from __future__ import annotations

from typing import Any

import segno
from aiohttp import web
from markupsafe import Markup

from node.runtime import appkeys
from node.runtime.i18n import LANGUAGES, N_
from web import keys
from web.i18n import NATIVE_NAMES, template_gettext
from web.rendering import render
from web.routing import page

SIZES = ("a4", "a5")
WRONG_CHOICE = N_(
    "The flyer exists in German (de), French (fr) and English (en), in the sizes A4 and "
    "A5. Please choose one of them."
)


def registration_url(base_url: str) -> str:
    return f"{base_url}/register"


def qr_svg(url: str, title: str) -> Markup:
    """The QR code of ``url`` as an inline ``<svg>`` sized by the stylesheet."""
    code = segno.make(url, error="m", micro=False)
    svg = code.svg_inline(
        scale=1,
        border=4,
        omitsize=True,
        dark="#000",
        light="#fff",
        svgclass="qr__code",
        lineclass="qr__modules",
        title=title,
    )
    return Markup(svg)  # noqa: S704 - segno's own markup; the title is escaped by segno


@page
async def flyer(request: web.Request) -> web.Response:
    state = request[keys.PAGE]
    language = request.query.get("lang", state.language)
    size = request.query.get("size", "a4")
    if language not in LANGUAGES or size not in SIZES:
        t = state.translator
        return await render(
            request,
            "errors/error.html",
            {"status": 400, "title": t.gettext("No such flyer"), "text": t.gettext(WRONG_CHOICE)},
            status=400,
            with_session=False,
        )
    config = request.app[appkeys.CONFIG]
    translator = request.app[appkeys.CATALOGUES].get(language)
    url = registration_url(config.node.base_url)
    context: dict[str, Any] = {
        "lang": language,
        "size": size,
        "sizes": SIZES,
        "languages": [(code, NATIVE_NAMES[code]) for code in NATIVE_NAMES],
        "portal": config.branding.portal_name,
        "city": config.node.city,
        "registration_url": url,
        "privacy_url": f"{config.node.base_url}/privacy",
        "qr": qr_svg(url, translator.gettext("QR code: register at %(url)s") % {"url": url}),
        **template_gettext(translator),
    }
    body = request.app[keys.TEMPLATES].get_template("flyer/flyer.html").render(context)
    return web.Response(text=body, content_type="text/html", charset="utf-8")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/flyer", flyer, name="flyer")
