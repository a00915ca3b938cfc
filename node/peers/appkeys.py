"""Typed keys for the peer registry's collaborators in the running app."""

from __future__ import annotations

from aiohttp import web

from node.peers.fetch import SignedFetcher
from node.peers.refresh import PeerRefresher

FETCHER = web.AppKey("signed_fetcher", SignedFetcher)
REFRESHER = web.AppKey("peer_refresher", PeerRefresher)
