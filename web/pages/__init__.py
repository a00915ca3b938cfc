"""The pages, one module per group; each module has ``add_routes(app)``."""

from __future__ import annotations

from aiohttp import web

from web.pages import (
    accounts,
    admin,
    contacts,
    dashboard,
    landing,
    messages,
    profile,
    settings,
    twin,
)


def add_routes(app: web.Application) -> None:
    for module in (
        landing,
        accounts,
        profile,
        dashboard,
        twin,
        settings,
        contacts,
        messages,
        admin,
    ):
        module.add_routes(app)
