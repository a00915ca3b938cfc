"""Helpers shared by the command modules."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from node.runtime.config import Config, load_config
from node.runtime.db import Database


class CommandError(Exception):
    """A failure the admin can act on; printed as one line, exit status ``status``."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def config_from(args: argparse.Namespace) -> Config:
    return load_config(args.config, data_dir=args.data_dir)


def add_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    summary: str,
    description: str | None = None,
) -> argparse.ArgumentParser:
    """A subcommand whose --help shows the one-line summary and the longer description."""
    return commands.add_parser(
        name,
        help=summary,
        description=description or summary,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


@asynccontextmanager
async def database(config: Config) -> AsyncIterator[Database]:
    """The node's database for one command; the engine is closed after.

    No feature subscribes to its events here: a running node's workers poll, so what
    a command queues is sent within ``worker_poll_seconds``.
    """
    db = Database.open(config.database_url)
    try:
        yield db
    finally:
        await db.dispose()
