"""Public discovery endpoints, so that any fediverse tool can look a node up.

``/.well-known/webfinger`` → the ``Service`` actor at ``/actor``; NodeInfo 2.1 via
``/.well-known/nodeinfo``; ``/outbox``, empty on purpose: nothing this node does is public.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from federation.documents import (
    ACTIVITY_JSON,
    ACTIVITYSTREAMS_CONTEXT,
    JRD_JSON,
    LD_JSON_AS,
    NODEINFO_JSON,
    NODEINFO_PATH,
    nodeinfo_document,
    nodeinfo_links,
    webfinger_document,
)
from node import VERSION
from node.federation.key_rotation import node_actor_document
from node.models import Peer, PeerKey, Resident, utcnow
from node.peers.registry import usable
from node.runtime import appkeys

SOFTWARE_NAME = "zwilling"
LANGUAGES = ("de", "fr", "en")


def _json(document: Any, content_type: str, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(document, ensure_ascii=False).encode(),
        status=status,
        headers={"Content-Type": content_type, "Access-Control-Allow-Origin": "*"},
    )


def _error(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


def _same_url(a: str, b: str) -> bool:
    return a.rstrip("/").lower() == b.rstrip("/").lower()


async def webfinger(request: web.Request) -> web.Response:
    config = request.app[appkeys.CONFIG]
    resource = request.query.get("resource", "").strip()
    if not resource:
        return _error(400, "resource parameter is required (acct:<name>@<host>)")
    subject = f"acct:{config.node.slug}@{config.host}"
    if resource.lower().startswith("acct:"):
        user, at, host = resource[5:].rpartition("@")
        if not at or not user or not host or "@" in user or any(c.isspace() for c in resource):
            return _error(400, f"{resource[:100]!r} is not of the form acct:<name>@<host>")
        if user.lower() != config.node.slug or host.lower() != config.host.lower():
            return _error(404, f"no actor {resource[:100]} on this node")
    elif resource.startswith(("https://", "http://")):
        if not any(_same_url(resource, url) for url in (config.actor_url, config.node.base_url)):
            return _error(404, f"no actor {resource[:100]} on this node")
    else:
        return _error(400, "resource must be an acct: URI or an http(s) URL")
    return _json(webfinger_document(subject=subject, actor_url=config.actor_url), JRD_JSON)


def _wants_ld(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/ld+json" in accept and ACTIVITY_JSON not in accept


async def actor(request: web.Request) -> web.Response:
    app = request.app
    document = node_actor_document(app[appkeys.CONFIG], app[appkeys.KEYS])
    return _json(document, LD_JSON_AS if _wants_ld(request) else ACTIVITY_JSON)


async def outbox(request: web.Request) -> web.Response:
    config = request.app[appkeys.CONFIG]
    document = {
        "@context": ACTIVITYSTREAMS_CONTEXT,
        "id": f"{config.node.base_url}/outbox",
        "type": "OrderedCollection",
        "totalItems": 0,
        "orderedItems": [],
    }
    return _json(document, LD_JSON_AS if _wants_ld(request) else ACTIVITY_JSON)


async def nodeinfo_index(request: web.Request) -> web.Response:
    return _json(nodeinfo_links(request.app[appkeys.CONFIG].node.base_url), "application/json")


@lru_cache(maxsize=1)
def taxonomy_version() -> str | None:
    """The shared taxonomy's version, if the matching package can tell it."""
    try:
        from matching.taxonomy import load_taxonomy

        return load_taxonomy().version
    except Exception:
        return None


async def nodeinfo(request: web.Request) -> web.Response:
    app = request.app
    config = app[appkeys.CONFIG]
    now = utcnow()
    async with app[appkeys.DATABASE].read() as session:
        residents = await session.scalar(
            select(func.count()).select_from(Resident).where(Resident.status == "active")
        )
        peers = (
            await session.execute(
                select(Peer.actor_url, Peer.name)
                .where(select(PeerKey.id).where(PeerKey.peer_id == Peer.id, usable(now)).exists())
                .order_by(Peer.id)
            )
        ).all()
    languages = sorted({*LANGUAGES, config.node.default_language})
    document = nodeinfo_document(
        software_name=SOFTWARE_NAME,
        version=VERSION,
        usage_users=int(residents or 0),
        usage_local_posts=0,
        open_registrations=config.node.registration_open,
        metadata={
            "nodeName": config.branding.portal_name,
            "city": config.node.city,
            "languages": languages,
            "defaultLanguage": config.node.default_language,
            "taxonomyVersion": taxonomy_version(),
            "peers": [{"actor": url, "name": name} for url, name in peers],
        },
    )
    return _json(document, NODEINFO_JSON)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/.well-known/webfinger", webfinger, name="webfinger")
    app.router.add_get("/actor", actor, name="actor")
    app.router.add_get("/outbox", outbox, name="outbox")
    app.router.add_get("/.well-known/nodeinfo", nodeinfo_index, name="nodeinfo-index")
    app.router.add_get(NODEINFO_PATH, nodeinfo, name="nodeinfo")
