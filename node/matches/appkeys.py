"""Typed key for the matching state the running app keeps between computations."""

from __future__ import annotations

from aiohttp import web

from node.matches.state import MatchingState

MATCHING = web.AppKey("matching", MatchingState)
