"""The CLI as city IT uses it: real files, ``main(argv)`` called in-process.

Only what needs a process spawns one: the exit status through the real ``zwilling``
entry point (``test_entry_point_exit_status``).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from node.cli import main

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "oldenburg.toml"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


Zwilling = Callable[..., Result]


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> Result:
    """``main(argv)`` as the console script runs it: a return or SystemExit is the status."""
    try:
        code: int | str | None = main(argv)
    except SystemExit as exc:
        code = exc.code
    if code is None:
        code = 0
    elif isinstance(code, str):  # sys.exit("message"): printed, status 1
        code = 1
    out, err = capsys.readouterr()
    return Result(code, out, err)


@pytest.fixture
def zwilling(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Zwilling:
    def run(*args: str, data_dir: Path, env: dict[str, str] | None = None) -> Result:
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()  # drop what came before this call
        return run_main(["--config", str(CONFIG), "--data-dir", str(data_dir), *args], capsys)

    return run


def test_init_is_idempotent_and_keys_are_private(tmp_path: Path, zwilling: Zwilling) -> None:
    first = zwilling("init", data_dir=tmp_path)
    assert first.returncode == 0, first.stderr
    keys = sorted((tmp_path / "keys").iterdir())
    assert [k.name for k in keys] == [
        "http-signature-rsa.pem",
        "node-secret",
        "object-proof-ed25519.pem",
    ]
    before = {k.name: (k.read_bytes(), k.stat().st_mtime_ns) for k in keys}
    for key in keys:
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert (tmp_path / "node.db").exists()

    second = zwilling("init", data_dir=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "left unchanged" in second.stdout
    after = {k.name: (k.read_bytes(), k.stat().st_mtime_ns) for k in (tmp_path / "keys").iterdir()}
    assert after == before


def test_keys_show_and_check_report(tmp_path: Path, zwilling: Zwilling) -> None:
    assert zwilling("init", data_dir=tmp_path).returncode == 0
    shown = zwilling("keys", "show", data_dir=tmp_path)
    assert shown.returncode == 0
    assert shown.stdout.count("SHA256:") == 2
    check = zwilling("check", data_dir=tmp_path)
    assert "[ok] config:" in check.stdout
    assert "[ok] database: reachable" in check.stdout
    assert "[ok] keys: present and readable" in check.stdout
    # the shipped peer has no pinned fingerprint yet, which check flags
    assert "[!!] peer (config): http://127.0.0.1:8402/actor" in check.stdout
    assert check.returncode == 1


def test_check_before_init_says_what_is_missing(tmp_path: Path, zwilling: Zwilling) -> None:
    check = zwilling("check", data_dir=tmp_path)
    assert check.returncode == 1
    assert "run 'zwilling init'" in check.stdout


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["init"], ["run"], ["check"], ["keys", "show"], ["db", "upgrade"]):
        result = run_main([*command, "--help"], capsys)
        assert result.returncode == 0
        assert "usage: zwilling" in result.stdout


def _entry_point() -> list[str]:
    """The installed ``zwilling`` console script, else ``python -m node.cli``."""
    script = Path(sys.executable).with_name("zwilling")
    return [str(script)] if script.exists() else [sys.executable, "-m", "node.cli"]


def test_entry_point_exit_status(tmp_path: Path) -> None:
    """The status ``main`` returns is the process's exit status: 1 for a failed check,
    2 for a usage error, 0 for --help."""
    base = [*_entry_point(), "--config", str(CONFIG), "--data-dir", str(tmp_path)]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*base, *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=dict(os.environ),
        )

    check = run("check")
    assert check.returncode == 1, check.stderr
    assert "run 'zwilling init'" in check.stdout
    usage = run("bogus")
    assert usage.returncode == 2
    assert "invalid choice: 'bogus'" in usage.stderr
    helped = run("--help")
    assert helped.returncode == 0
    assert "usage: zwilling" in helped.stdout
