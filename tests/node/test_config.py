"""The configuration file: the shipped pair loads; each kind of mistake is reported
on one line with exit status 2, by every command, without a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from node.runtime.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]
VALID = (ROOT / "config" / "oldenburg.toml").read_text()


def test_shipped_pair_loads_and_points_at_each_other(tmp_path: Path) -> None:
    oldenburg = load_config(ROOT / "config" / "oldenburg.toml", environ={})
    cholet = load_config(ROOT / "config" / "cholet.toml", environ={})
    assert oldenburg.branding.portal_name == "MeinZwilling"
    assert cholet.branding.portal_name == "MonJumeau"
    assert (oldenburg.node.default_language, cholet.node.default_language) == ("de", "fr")
    assert (oldenburg.node.minimum_age, cholet.node.minimum_age) == (16, 15)
    assert oldenburg.listen.port != cholet.listen.port
    assert oldenburg.peers[0].actor_url == cholet.actor_url
    assert cholet.peers[0].actor_url == oldenburg.actor_url
    assert oldenburg.data_dir == Path("data/oldenburg").absolute()


def test_relative_paths_resolve_against_data_dir(tmp_path: Path) -> None:
    config = load_config(ROOT / "config" / "oldenburg.toml", data_dir=tmp_path, environ={})
    assert config.database_url == f"sqlite+aiosqlite:///{tmp_path / 'node.db'}"
    env = {"ZWILLING_DATA_DIR": str(tmp_path / "x")}
    assert load_config(ROOT / "config" / "oldenburg.toml", environ=env).data_dir == tmp_path / "x"


def test_environment_overrides_secrets_and_database(tmp_path: Path) -> None:
    env = {
        "ZWILLING_DATABASE_URL": "postgresql+asyncpg://zw@db.example/zw",
        "ZWILLING_NODE_SECRET": "s" * 40,
    }
    config = load_config(ROOT / "config" / "cholet.toml", environ=env)
    assert config.database_url == "postgresql+asyncpg://zw@db.example/zw"
    assert config.node.secret == "s" * 40


BROKEN = {
    "missing field": (VALID.replace('city = "Oldenburg"\n', ""), "node.city: required field"),
    "wrong type": (
        VALID.replace("minimum_age = 16", 'minimum_age = "sixteen"'),
        "node.minimum_age",
    ),
    "unknown key": (
        VALID.replace("[listen]", "[listen]\ncolour = 1"),
        "listen.colour: unknown field",
    ),
    "bad url": (
        VALID.replace('base_url = "http://127.0.0.1:8401"', 'base_url = "ftp:/x"'),
        "node.base_url: must be an absolute http(s) URL",
    ),
    "port out of range": (VALID.replace("port = 8401", "port = 70000"), "listen.port"),
    "not toml": ("[node\nslug=", "not valid TOML"),
    "bad fingerprint": (
        VALID.replace("fingerprints = []", 'fingerprints = ["abc"]'),
        "peers.0.fingerprints",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_invalid_file_names_file_field_and_problem(tmp_path: Path, case: str) -> None:
    text, expected = BROKEN[case]
    path = tmp_path / "broken.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml", environ={})


@pytest.mark.parametrize("command", [["check"], ["init"], ["run"], ["keys", "show"]])
def test_every_command_exits_2_with_one_line(tmp_path: Path, command: list[str]) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(VALID.replace("port = 8401", "port = 0"))
    result = subprocess.run(
        [sys.executable, "-m", "node.cli", "--config", str(path), *command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"{path}: listen.port" in lines[0]
    assert "Traceback" not in result.stderr
