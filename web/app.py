"""Wires the resident-facing web interface into a node application."""

from __future__ import annotations

from aiohttp import web


def setup(app: web.Application) -> None:
    """Entry point ``zwilling.extensions``: registers pages, sessions and templates."""
