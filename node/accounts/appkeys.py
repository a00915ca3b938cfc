"""Typed keys for the accounts' collaborators in the running app."""

from __future__ import annotations

from aiohttp import web

from node.accounts.totp_seal import SecretSeal

# Derived from the node secret when the app is built; the pages pass it to
# node.accounts.two_factor.
TWO_FACTOR_SEAL = web.AppKey("two_factor_seal", SecretSeal)
