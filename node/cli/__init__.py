"""``zwilling``: the command line city IT uses to set up and run one node.

Every command takes ``--config PATH`` (or ``ZWILLING_CONFIG``) and ``--data-dir``
(or ``ZWILLING_DATA_DIR``). A configuration problem ends every command with exit
status 2 and one line naming the file, the field and the problem.

The commands are listed in ``COMMANDS``: name, one-line summary and the module that
implements it. Only the module of the command actually run is imported (it adds its
real parser with ``register``), so ``zwilling --help`` loads neither the database
layer nor the web stack. Keep this module's imports to the standard library.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any, cast

#: (command, one-line summary for ``zwilling --help``, module whose ``register`` adds it).
#: The summary must be the one the module registers (``tests/node/test_cli_lazy.py``).
COMMANDS: tuple[tuple[str, str, str], ...] = (
    (
        "init",
        "create the data directory, database and key pairs (safe to run again)",
        "node.cli._maintenance",
    ),
    ("db", "database maintenance", "node.cli._maintenance"),
    (
        "check",
        "report whether config, database, keys and peers are in order",
        "node.cli._maintenance",
    ),
    ("backup", "write a consistent backup of database and keys", "node.cli._database"),
    ("restore", "restore a backup into an empty database", "node.cli._database"),
    ("keys", "the node's own keys", "node.cli._keys"),
    ("peer", "the partner nodes this node federates with", "node.cli._peers"),
    ("admin", "give or take the admin role", "node.cli._admin"),
    (
        "run",
        "serve the node (web pages, federation endpoints and delivery worker)",
        "node.cli._serve",
    ),
    ("sync", "pull peers' full vector sets and reconcile", "node.cli._sync"),
    ("worker", "run only the background workers", "node.cli._worker"),
    ("demo", "run the Oldenburg and Cholet demo pair", "node.cli._demo"),
    ("privacy", "what leaves for each peer, and how well it hides", "node.cli._privacy"),
)


class _LazyCommands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """Subcommands that stay placeholders (name and summary) until one is chosen.

    When the parser reaches the command name, the module implementing it is imported
    and its ``register`` adds the real parsers (options, nested actions, handler) to
    a fresh subparsers object; they replace the placeholders before the rest of the
    command line is parsed. A top-level ``--help`` therefore imports nothing.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._modules: dict[str, str] = {}

    def add_lazy(self, name: str, summary: str, module: str) -> None:
        self.add_parser(name, help=summary)
        self._modules[name] = module

    def load(self, name: str) -> argparse.ArgumentParser:
        """The real parser of ``name``, importing its module the first time."""
        module = self._modules.pop(name, None)
        if module is not None:
            real = argparse._SubParsersAction(
                option_strings=[], prog=self._prog_prefix, parser_class=self._parser_class
            )
            importlib.import_module(module).register(real)
            if name not in real._name_parser_map:
                raise RuntimeError(f"{module}.register adds no command {name!r}")
            for registered, parser in real._name_parser_map.items():
                if self._modules.get(registered) == module:
                    del self._modules[registered]
                if registered in self._name_parser_map:
                    self._name_parser_map[registered] = parser
        return cast(argparse.ArgumentParser, self._name_parser_map[name])

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        self.load(values[0])
        super().__call__(parser, namespace, values, option_string)


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
    commands = cast(
        _LazyCommands,
        parser.add_subparsers(
            dest="command", metavar="COMMAND", required=True, action=_LazyCommands
        ),
    )
    for name, summary, module in COMMANDS:
        commands.add_lazy(name, summary, module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Imported only now: the chosen command's module has loaded them anyway.
    from node.cli._common import CommandError
    from node.runtime.config import ConfigError

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
