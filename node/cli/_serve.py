"""``zwilling run``: serve the node until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio

from aiohttp import web

from node.app import create_app
from node.cli._common import CommandError, add_command, config_from
from node.runtime import migrate
from node.runtime.config import Config
from node.runtime.db import create_engine
from node.runtime.heap import freeze_loaded_objects
from node.runtime.keys import KeyFileError, load_keys
from node.runtime.logs import configure_logging


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = add_command(
        commands,
        "run",
        "serve the node (web pages, federation endpoints and delivery worker)",
        "Serves the node on the configured listen address until SIGINT or SIGTERM,\n"
        "which stop it cleanly: in-flight requests finish, the workers stop, queued\n"
        "deliveries stay queued in the database.",
    )
    run.add_argument("--host", help="listen address (default: [listen] host)")
    run.add_argument("--port", type=int, help="listen port (default: [listen] port)")
    run.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING"])
    run.add_argument(
        "--no-workers",
        action="store_true",
        help="serve HTTP only; run the workers separately with 'zwilling worker'",
    )
    run.set_defaults(handler=cmd_run)


async def ensure_migrated(config: Config) -> None:
    engine = create_engine(config.database_url)
    try:
        current = await migrate.current_revision(engine)
    except Exception as exc:
        raise CommandError(f"database unreachable: {exc}") from None
    finally:
        await engine.dispose()
    if current != migrate.head_revision():
        raise CommandError(
            f"database is at {current or 'no revision'}; "
            "run 'zwilling init' or 'zwilling db upgrade'"
        )


def cmd_run(args: argparse.Namespace) -> int:
    config = config_from(args)
    configure_logging(args.log_level)
    asyncio.run(ensure_migrated(config))
    try:
        keys = load_keys(config)
    except KeyFileError as exc:
        raise CommandError(str(exc)) from None
    app = create_app(config, keys=keys, run_workers=not args.no_workers)
    host = args.host or config.listen.host
    port = args.port or config.listen.port
    name = f"{config.branding.portal_name} ({config.node.city})"
    print(f"{name} on http://{host}:{port}/", flush=True)
    freeze_loaded_objects()
    # run_app handles SIGINT and SIGTERM: it stops accepting, drains, runs cleanup_ctx.
    web.run_app(app, host=host, port=port, print=None, access_log=None, shutdown_timeout=10)
    return 0
