"""Only the node's own user can read its data: the data directory is created 0700,
the database (with its -wal and -shm files) and mail files 0600, whatever the umask;
and SQLite overwrites deleted content instead of leaving it in free pages."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from node.cli import main
from node.runtime.config import config_from_mapping
from node.runtime.db import create_engine
from node.runtime.i18n import load_catalogues
from node.runtime.mail import PASSWORD_RESET, Mailer
from support.nodes import node_document, write_config

ROOT = Path(__file__).resolve().parents[2]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The most permissive umask: any private mode must have been set on purpose."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


async def test_database_directory_and_files_are_private(tmp_path: Path, open_umask: None) -> None:
    data = tmp_path / "fresh" / "data"
    database = data / "node.db"
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql("CREATE TABLE t (x TEXT)")
            await connection.exec_driver_sql("INSERT INTO t VALUES ('x')")
        wal = database.with_name("node.db-wal")
        shm = database.with_name("node.db-shm")
        assert wal.exists() and shm.exists()
        assert [mode(p) for p in (data, data.parent, database, wal, shm)] == [
            0o700,
            0o700,
            0o600,
            0o600,
            0o600,
        ]
    finally:
        await engine.dispose()


async def test_an_existing_database_readable_by_others_is_narrowed(tmp_path: Path) -> None:
    database = tmp_path / "node.db"
    database.touch()
    os.chmod(database, 0o644)
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    assert mode(database) == 0o600


async def test_sqlite_overwrites_deleted_content(tmp_path: Path) -> None:
    database = tmp_path / "x.db"
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    marker = "qx-secure-delete-marker"
    try:
        async with engine.begin() as connection:
            assert (await connection.exec_driver_sql("PRAGMA secure_delete")).scalar() == 1
            await connection.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
            insert = text("INSERT INTO t (body) VALUES (:body)")
            await connection.execute(insert, [{"body": f"{marker}-{n}"} for n in range(50)])
        assert _holding(tmp_path, marker)
        async with engine.begin() as connection:
            await connection.exec_driver_sql("DELETE FROM t")
    finally:
        await engine.dispose()  # the last connection checkpoints and removes the WAL
    assert _holding(tmp_path, marker) == []


def _holding(directory: Path, marker: str) -> list[str]:
    files = [p for p in directory.iterdir() if p.name.startswith("x.db")]
    return [p.name for p in files if marker.encode() in p.read_bytes()]


async def test_mail_folder_and_files_are_private(tmp_path: Path, open_umask: None) -> None:
    document = node_document("cholet", 8402, "sqlite+aiosqlite:///x.db")
    config = config_from_mapping(document, data_dir=tmp_path / "node", environ={})
    mailer = Mailer(config, load_catalogues(ROOT / "web" / "translations", default="fr"))
    mail = mailer.compose(
        PASSWORD_RESET, "a@example.fr", "fr", recipient_id=7, name="A", link="l", minutes=5
    )
    await mailer.deliver([mail])
    folder = tmp_path / "node" / "mail"
    files = list(folder.iterdir())
    assert [f.name.split("-")[-1] for f in files] == ["r7.eml"]
    assert (mode(tmp_path / "node"), mode(folder), mode(files[0])) == (0o700, 0o700, 0o600)


def test_init_creates_a_private_data_directory(tmp_path: Path, open_umask: None) -> None:
    document = node_document("oldenburg", 8401, "sqlite+aiosqlite:///node.db")
    config = config_from_mapping(document, data_dir=tmp_path / "city" / "data", environ={})
    path = write_config(SimpleNamespace(config=config), tmp_path / "oldenburg.toml")  # type: ignore[arg-type]
    assert main(["--config", str(path), "--data-dir", str(config.data_dir), "init"]) == 0
    assert mode(config.data_dir) == 0o700
    assert mode(config.data_dir / "node.db") == 0o600
    assert mode(config.data_dir / "keys") == 0o700
