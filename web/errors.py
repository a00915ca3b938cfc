"""Error pages: translated, in the page frame, without tracebacks.

Any error on a page (or on an address no route knows, when a browser asks) ends
here as a short page in the visitor's language with the right status code. An
unexpected exception is logged with its traceback for city IT and shown to the
visitor as a plain "something went wrong" page; the details never reach the
browser. Requests that are not pages (federation endpoints) keep their own error
handling.
"""

from __future__ import annotations

import logging

from aiohttp import web

from node.runtime import appkeys
from node.runtime.db import is_storage_trouble
from node.runtime.i18n import N_
from web import keys
from web.i18n import negotiate
from web.rendering import render
from web.routing import Handler, is_page, wants_html
from web.visits.csrf import CrossSiteRequest, CsrfFailure

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 60

MESSAGES: dict[int, tuple[str, str]] = {
    400: (
        N_("This request could not be understood"),
        N_("Something in what your browser sent was not in order. Please go back and try again."),
    ),
    403: (
        N_("Access denied"),
        N_("You are not allowed to open this page."),
    ),
    404: (
        N_("Page not found"),
        N_("There is no page at this address. Perhaps the link is old or mistyped."),
    ),
    405: (
        N_("Not possible this way"),
        N_("This address cannot be used like that. Please use the links and buttons on the pages."),
    ),
    413: (
        N_("Too much data"),
        N_("What was sent is larger than this site accepts. Please shorten it and try again."),
    ),
    429: (
        N_("Too many attempts"),
        N_("Please wait a little and try again."),
    ),
    503: (
        N_("Temporarily unavailable"),
        N_(
            "The portal cannot save anything right now, so nothing was changed. "
            "Please try again in a few minutes; if it lasts, tell the city's team."
        ),
    ),
    500: (
        N_("Something went wrong on our side"),
        N_(
            "The page could not be shown. Please try again in a moment; if it keeps happening, "
            "tell the city's team."
        ),
    ),
}
CSRF_MESSAGE = (
    N_("This form has expired"),
    N_(
        "For your protection, forms only work for a limited time and only on this site. "
        "Please go back, reload the page and send the form again."
    ),
)
CROSS_SITE_MESSAGE = (
    N_("This form was sent from another site"),
    N_(
        "For your protection, forms of this site are only accepted from its own pages. "
        "Please open the page here, on this site, and send the form again."
    ),
)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or not wants_html(request):
            raise
        return await error_page(request, exc.status, exc)
    except Exception as exc:
        if not is_page(request):
            raise
        if is_storage_trouble(exc):
            # A full disk or a lost database: nothing was saved, and it is not the
            # visitor's fault nor a bug; say so and when to come back.
            log.warning("page refused: storage unavailable", extra={"path": request.path})
            response = await error_page(request, 503, None)
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        log.exception("page failed", extra={"path": request.path})
        return await error_page(request, 500, None)


async def error_page(
    request: web.Request,
    status: int,
    exc: web.HTTPException | None,
) -> web.Response:
    state = request.get(keys.PAGE)
    if state is None:
        state = _anonymous_state(request)
        request[keys.PAGE] = state
    if isinstance(exc, CrossSiteRequest):
        title, text = CROSS_SITE_MESSAGE
    elif isinstance(exc, CsrfFailure):
        title, text = CSRF_MESSAGE
    else:
        title, text = _message(status)
    t = state.translator
    try:
        response = await render(
            request,
            "errors/error.html",
            {"status": status, "title": t.gettext(title), "text": t.gettext(text)},
            status=status,
            with_session=False,
        )
    except Exception:
        log.exception("error page failed", extra={"path": request.path})
        response = web.Response(text=t.gettext(title), status=status, content_type="text/plain")
    if status == 405 and exc is not None and "Allow" in exc.headers:
        response.headers["Allow"] = exc.headers["Allow"]
    return response


def _message(status: int) -> tuple[str, str]:
    if status in MESSAGES:
        return MESSAGES[status]
    return MESSAGES[500] if status >= 500 else MESSAGES[400]


def _anonymous_state(request: web.Request) -> keys.PageState:
    config = request.app[appkeys.CONFIG]
    language = negotiate(
        None, None, request.headers.get("Accept-Language", ""), config.node.default_language
    )
    return keys.PageState(
        language=language, translator=request.app[appkeys.CATALOGUES].get(language)
    )
