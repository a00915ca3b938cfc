"""The worker that runs the purge (:mod:`.purge`) now and then."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from node.models import utcnow
from node.retention.purge import purge
from node.runtime import appkeys

log = logging.getLogger(__name__)

# Periods are counted in days; four passes an hour keep "0 days" close to "at once".
INTERVAL_SECONDS = 900.0


class RetentionWorker:
    def __init__(self, app: web.Application, *, interval: float = INTERVAL_SECONDS) -> None:
        self.app = app
        self.interval = interval

    async def run(self, stop: asyncio.Event) -> None:
        config = self.app[appkeys.CONFIG]
        while not stop.is_set():
            try:
                result = await purge(
                    self.app[appkeys.DATABASE],
                    config.retention,
                    utcnow(),
                    config.path(config.mail.directory),
                    sessions=config.sessions,
                )
                if result.total:
                    log.info(
                        "retention purge",
                        extra={
                            "inbox_bodies": result.inbox_bodies,
                            "outbox_bodies": result.outbox_bodies,
                            "outbox_failed": result.outbox_failed,
                            "report_copies": result.report_copies,
                            "mail_files": result.mail_files,
                            "sessions": result.sessions,
                        },
                    )
            except Exception:
                log.exception("retention purge failed; will try again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)
