"""Security headers on everything the web interface serves.

The policy allows resources from this node only, scripts only as the node's own
files (no inline script: every page works without one, a few are nicer with one),
refuses framing (clickjacking) and keeps addresses, which may carry a mailed token,
from leaking to other sites in the Referer header. Pages are not
stored by caches: they carry CSRF tokens and, once logged in, personal data.
"""

from __future__ import annotations

from aiohttp import web

from node.runtime import appkeys
from web.routing import Handler, is_page

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'; img-src 'self' data:"
)


@web.middleware
async def security_headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if _is_html(exc) or is_page(request):
            _apply(request, exc)
        raise
    if is_page(request) or _is_html(response) or request.path.startswith("/static/"):
        _apply(request, response)
    return response


def _is_html(response: web.StreamResponse) -> bool:
    return (response.content_type or "").startswith("text/html")


def _apply(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if _is_html(response) or is_page(request):
        headers.setdefault("Cache-Control", "no-store")
    if request.app[appkeys.CONFIG].secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
