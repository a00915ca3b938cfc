"""Accounts as one feature: the seal of the two-factor secrets, and sealing the
secrets stored before there was one when the node starts (see ``totp_seal``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from node.accounts.appkeys import TWO_FACTOR_SEAL
from node.accounts.totp_seal import SecretSeal, seal_plain_secrets
from node.runtime import appkeys


def setup(app: web.Application) -> None:
    app[TWO_FACTOR_SEAL] = SecretSeal.from_node_secret(app[appkeys.KEYS].secret)
    app.cleanup_ctx.append(_sealed_secrets)


async def _sealed_secrets(app: web.Application) -> AsyncIterator[None]:
    """Before the first request, so that no code check meets a plain secret later."""
    async with app[appkeys.DATABASE].write() as session:
        await seal_plain_secrets(session, app[TWO_FACTOR_SEAL])
    yield
