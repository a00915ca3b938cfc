"""The pages, one module per group; each module has ``add_routes(app)``."""

from __future__ import annotations

from aiohttp import web

from web.pages import (
    accounts,
    admin,
    contacts,
    dashboard,
    flyer,
    landing,
    legal,
    messages,
    people,
    profile,
    security,
    settings,
    twin,
    two_factor,
)


def add_routes(app: web.Application) -> None:
    for module in (
        landing,
        accounts,
        profile,
        dashboard,
        twin,
        people,
        settings,
        security,
        two_factor,
        contacts,
        messages,
        admin,
        legal,
        flyer,
    ):
        module.add_routes(app)
