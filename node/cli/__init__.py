"""``zwilling``: the command line city IT uses to set up and run one node.

Every command takes ``--config PATH`` (or ``ZWILLING_CONFIG``) and ``--data-dir``
(or ``ZWILLING_DATA_DIR``). A configuration problem ends every command with exit
status 2 and one line naming the file, the field and the problem.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from node.cli import _admin, _demo, _keys, _maintenance, _peers, _serve, _sync, _worker
from node.cli._common import CommandError
from node.runtime.config import ConfigError

COMMAND_MODULES = [_maintenance, _keys, _peers, _admin, _serve, _sync, _worker, _demo]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zwilling",
        description="Run one city node of MeinZwilling / MonJumeau, the twin-city portal.",
    )
    parser.add_argument(
        "--config", metavar="PATH", help="node configuration file (default: $ZWILLING_CONFIG)"
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="database, keys and mail (default: $ZWILLING_DATA_DIR or ./data/<slug>)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except ConfigError as exc:
        print(f"zwilling: configuration error: {exc}", file=sys.stderr)
        return 2
    except CommandError as exc:
        print(f"zwilling: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        return 130
