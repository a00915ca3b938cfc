"""``zwilling demo``: Oldenburg and Cholet with synthetic residents, in one process."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from pathlib import Path

from node.cli._common import CommandError, add_command
from node.demo.configs import DEFAULT_PORTS
from node.demo.pair import DemoError, clear, run_demo
from node.runtime.config import ENV_DATA_DIR
from node.runtime.files import private_directory
from node.runtime.logs import JsonFormatter

DEMO_HELP = """\
Starts the Oldenburg node (MeinZwilling) and the Cholet node (MonJumeau) on the
loopback ports of config/oldenburg.toml and config/cholet.toml (or those of
--ports), each with its own SQLite database, keys and mail folder under the data
directory (--data-dir, else $ZWILLING_DATA_DIR, else ./data/demo; one folder per
city inside it), each pinning the other's keys. The first start creates a few
hundred synthetic residents per city (persons, families, clubs, school classes;
the two mayors among them); the nodes exchange their anonymised vectors and
compute the twins, and the command prints both addresses and the demo logins
with their twins: the same on every fresh start (README.md shows them).

Ctrl-C (or SIGTERM) stops both nodes cleanly. The next start reuses the data;
--fresh starts over with new keys (and the same residents)."""


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
    demo.add_argument(
        "--ports",
        metavar="OLDENBURG,CHOLET",
        type=_ports,
        default=None,
        help=(
            "the two nodes' ports, e.g. 8501,8502: each listens there, names itself by "
            "it and finds its partner there (default: those of the config files, "
            f"{DEFAULT_PORTS[0]},{DEFAULT_PORTS[1]})"
        ),
    )
    demo.add_argument(
        "--data-dir",
        dest="demo_data_dir",
        metavar="DIR",
        default=None,
        help=f"where the demo keeps both cities' data (default: ${ENV_DATA_DIR} or ./data/demo)",
    )
    demo.set_defaults(handler=cmd_demo)


def _ports(value: str) -> tuple[int, int]:
    """Two distinct TCP ports, Oldenburg's first; anything else is a usage error."""
    parts = [part.strip() for part in value.split(",")]
    if len(parts) != 2 or not all(part.isascii() and part.isdigit() for part in parts):
        raise argparse.ArgumentTypeError(f"{value!r}: give two ports, e.g. 8401,8402")
    first, second = int(parts[0]), int(parts[1])
    if not (1 <= first <= 65535 and 1 <= second <= 65535):
        raise argparse.ArgumentTypeError(f"{value!r}: a port is between 1 and 65535")
    if first == second:
        raise argparse.ArgumentTypeError(f"{value!r}: the two nodes need two different ports")
    return first, second


def demo_root(args: argparse.Namespace, environ: dict[str, str] | None = None) -> Path:
    """The demo's data directory: the option (after or before ``demo``), the
    environment, then ./data/demo."""
    env = dict(os.environ) if environ is None else environ
    chosen = args.demo_data_dir or args.data_dir or env.get(ENV_DATA_DIR)
    return Path(chosen or Path("data") / "demo").absolute()


def cmd_demo(args: argparse.Namespace) -> int:
    root = demo_root(args)
    try:
        if args.fresh:
            clear(root)
        private_directory(root)
        _log_to(root / "demo.log")
        asyncio.run(run_demo(root, Path(args.config_dir), say=_say, ports=args.ports))
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
