"""The CLI as city IT uses it: real files, real processes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def zwilling(*args: str, data_dir: Path, env: dict[str, str] | None = None):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "node.cli",
            "--config",
            str(ROOT / "config" / "oldenburg.toml"),
            "--data-dir",
            str(data_dir),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_init_is_idempotent_and_keys_are_private(tmp_path: Path) -> None:
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


def test_keys_show_and_check_report(tmp_path: Path) -> None:
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


def test_check_before_init_says_what_is_missing(tmp_path: Path) -> None:
    check = zwilling("check", data_dir=tmp_path)
    assert check.returncode == 1
    assert "run 'zwilling init'" in check.stdout


def test_every_command_has_help() -> None:
    for command in (["init"], ["run"], ["check"], ["keys", "show"], ["db", "upgrade"]):
        result = subprocess.run(
            [sys.executable, "-m", "node.cli", *command, "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0
        assert "usage: zwilling" in result.stdout
