"""``zwilling worker``: only the background workers, no HTTP."""

from __future__ import annotations

import argparse
import asyncio
import signal

from aiohttp import web

from node.app import create_app
from node.cli._common import CommandError, add_command, config_from
from node.cli._serve import ensure_migrated
from node.runtime.config import Config
from node.runtime.keys import KeyFileError, NodeKeys, load_keys
from node.runtime.logs import configure_logging

WORKER_HELP = """\
Runs the node's background workers without serving HTTP: delivery (sends
queued activities to peers, retrying for days), inbox retry (re-applies stored
activities whose handler failed), matching (recomputes twins and suggestions)
and message notifications. Stops cleanly on SIGINT or SIGTERM; whatever is queued
stays queued, and a worker killed outright (kill -9) loses nothing either:
its claimed rows are taken up again when their lease runs out.

On PostgreSQL any number of workers may run at once (rows are claimed with
SELECT ... FOR UPDATE SKIP LOCKED). On SQLite run one worker per node: either
the one inside 'zwilling run', or 'zwilling run --no-workers' plus one of these."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = add_command(commands, "worker", "run only the background workers", WORKER_HELP)
    worker.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING"])
    worker.set_defaults(handler=cmd_worker)


def cmd_worker(args: argparse.Namespace) -> int:
    config = config_from(args)
    configure_logging(args.log_level)
    asyncio.run(ensure_migrated(config))
    try:
        keys = load_keys(config)
    except KeyFileError as exc:
        raise CommandError(str(exc)) from None
    asyncio.run(_serve_workers(config, keys))
    return 0


async def _serve_workers(config: Config, keys: NodeKeys) -> None:
    # The app without a listening site: its cleanup_ctx opens the database and the
    # HTTP client and runs the workers, exactly as inside 'zwilling run'.
    app = create_app(config, keys=keys, run_workers=True)
    runner = web.AppRunner(app, handle_signals=False)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await runner.setup()
    print(f"workers of {config.node.city} running", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
