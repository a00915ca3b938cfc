"""``zwilling demo``: Oldenburg and Cholet with synthetic residents, in one process."""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from node.cli._common import CommandError, add_command
from node.demo.pair import DemoError, clear, run_demo
from node.runtime.files import private_directory
from node.runtime.logs import JsonFormatter

DEMO_HELP = """\
Starts the Oldenburg node (MeinZwilling) and the Cholet node (MonJumeau) on the
loopback ports of config/oldenburg.toml and config/cholet.toml, each with its own
SQLite database, keys and mail folder under the data directory (default
./data/demo/<slug>), each pinning the other's keys. The first start creates a few
hundred synthetic residents per city (persons, families, clubs, school classes;
the two mayors among them); the nodes exchange their anonymised vectors and
compute the twins, and the command prints both addresses and demo logins.

Ctrl-C (or SIGTERM) stops both nodes cleanly. The next start reuses the data;
--fresh starts over with new keys and residents."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = add_command(commands, "demo", "run the Oldenburg and Cholet demo pair", DEMO_HELP)
    demo.add_argument(
        "--fresh", action="store_true", help="remove the demo data first and start over"
    )
    demo.add_argument(
        "--config-dir",
        metavar="DIR",
        default="config",
        help="where oldenburg.toml and cholet.toml are (default: ./config)",
    )
    demo.set_defaults(handler=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    root = Path(args.data_dir or Path("data") / "demo").absolute()
    try:
        if args.fresh:
            clear(root)
        private_directory(root)
        _log_to(root / "demo.log")
        asyncio.run(run_demo(root, Path(args.config_dir), say=_say))
    except DemoError as exc:
        raise CommandError(str(exc)) from None
    return 0


def _say(line: str) -> None:
    print(line, flush=True)


def _log_to(path: Path) -> None:
    """Both nodes' JSON logs into one file, so the terminal shows the demo's summary."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
