"""Erasure and retention as one feature: the periodic purge, and mail files erased
after the commit of an account deletion (:class:`~node.retention.erasure.Erased`)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from node.retention.erasure import Erased, erase_mail_files
from node.retention.worker import RetentionWorker
from node.runtime import appkeys


def setup(app: web.Application) -> None:
    config = app[appkeys.CONFIG]
    directory = config.path(config.mail.directory)

    async def erase_mail(event: Erased) -> None:
        await asyncio.to_thread(erase_mail_files, directory, event.resident_ids, event.actor_urls)

    app[appkeys.DATABASE].events.subscribe(Erased, erase_mail)
    app[appkeys.BACKGROUND].add("retention", RetentionWorker(app).run)
