"""``zwilling`` imports only the module of the command it runs.

``zwilling --help`` used to import every command module (and with them SQLAlchemy,
aiohttp, httpx, numpy...): almost a second per call. These tests run in a fresh
interpreter, since this test process has long imported all of that.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from node.cli import COMMANDS, build_parser

ROOT = Path(__file__).resolve().parents[2]

COMMAND_MODULES = sorted({module for _, _, module in COMMANDS})
HEAVY = ["numpy", "sqlalchemy", "aiohttp", "httpx", "pydantic", "alembic", "cryptography"]

# Runs main(argv) in a fresh interpreter and prints what it imported beyond startup.
PROBE = """
import contextlib, json, sys
before = set(sys.modules)
from node.cli import main
with contextlib.suppress(SystemExit):  # --help and usage errors end in SystemExit
    main(json.loads(sys.argv[1]))
sys.stdout.flush()
print("\\n" + json.dumps(sorted(set(sys.modules) - before)))
"""


def imported_by(argv: list[str]) -> set[str]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=ROOT,
    )
    print(f"zwilling {' '.join(argv)}: {time.perf_counter() - started:.3f} s")
    return set(json.loads(result.stdout.splitlines()[-1]))


def top_level(modules: set[str]) -> set[str]:
    return {name.partition(".")[0] for name in modules}


@pytest.mark.parametrize("argv", [["--help"], [], ["bogus"]])
def test_top_level_help_and_usage_errors_import_no_command(argv: list[str]) -> None:
    modules = imported_by(argv)
    assert not modules & {*COMMAND_MODULES, "node.cli._common"}
    assert not top_level(modules) & set(HEAVY)
    # nothing of the node but the CLI package, nothing outside the standard library
    assert {m for m in modules if m.split(".")[0] == "node"} <= {"node", "node.cli"}
    third_party = top_level(modules) - set(sys.stdlib_module_names) - {"node"}
    assert not {m for m in third_party if not m.startswith("_")}, third_party


@pytest.mark.parametrize(
    ("argv", "module"),
    [
        (["peer", "--help"], "node.cli._peers"),
        (["admin", "grant", "--help"], "node.cli._admin"),
        (["demo", "--help"], "node.cli._demo"),
    ],
)
def test_a_command_imports_its_own_module_only(argv: list[str], module: str) -> None:
    modules = imported_by(argv)
    assert module in modules
    assert not modules & (set(COMMAND_MODULES) - {module})


def test_table_matches_what_the_modules_register() -> None:
    """Every command the modules register is in COMMANDS with its summary and module,
    in the order ``zwilling --help`` has always listed them."""
    registered: list[tuple[str, str, str]] = []
    for module in dict.fromkeys(module for _, _, module in COMMANDS):
        commands = argparse.ArgumentParser(prog="zwilling").add_subparsers()
        importlib.import_module(module).register(commands)
        registered += [(a.dest, a.help or "", module) for a in commands._choices_actions]
    assert sorted(registered) == sorted(COMMANDS)
    assert [name for name, _, _ in COMMANDS] == [
        "init",
        "db",
        "check",
        "backup",
        "restore",
        "keys",
        "peer",
        "admin",
        "run",
        "sync",
        "worker",
        "demo",
        "privacy",
    ]


def test_help_lists_every_command_with_its_summary(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # one line per command
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for name, summary, _ in COMMANDS:
        assert any(line.split() == [name, *summary.split()] for line in out.splitlines()), name


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["peer", "add", "--help"], "--fingerprint SHA256:…"),
        (["keys", "rotate", "--help"], "Generates a new RSA key"),
        (["admin", "grant", "--help"], "usage: zwilling admin grant [-h] EMAIL"),
        (["db", "upgrade", "--help"], "Back up first."),
        (["run", "--help"], "--no-workers"),
        (["worker", "--help"], "SKIP LOCKED"),
        (["sync", "--help"], "--peer URL"),
        (["demo", "--help"], "--config-dir DIR"),
    ],
)
def test_command_help_shows_the_real_options(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(argv)
    assert exited.value.code == 0
    assert expected in capsys.readouterr().out


def test_nested_commands_parse_to_their_handlers() -> None:
    args = build_parser().parse_args(
        ["--data-dir", "d", "peer", "add", "acct:x@y", "--yes", "--fingerprint", "SHA256:a"]
    )
    assert (args.command, args.peer_command, args.target) == ("peer", "add", "acct:x@y")
    assert (args.yes, args.fingerprint, args.data_dir) == (True, ["SHA256:a"], "d")
    assert args.handler.__module__ == "node.cli._peers"
    keys = build_parser().parse_args(["keys", "show"])
    assert keys.handler.__name__ == "cmd_keys_show"
    grant = build_parser().parse_args(["admin", "grant", "a@b.example"])
    assert (grant.admin_command, grant.email, grant.handler.__name__) == (
        "grant",
        "a@b.example",
        "cmd_grant",
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["keys"], "the following arguments are required: ACTION"),
        (["peer", "add"], "the following arguments are required: URL"),
        (["run", "--log-level", "BAD"], "argument --log-level: invalid choice: 'BAD'"),
        (["bogus"], "argument COMMAND: invalid choice: 'bogus' (choose from 'init', 'db',"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
