"""Session-wide templates that make test nodes cheap to build.

Generating a node's 3072-bit RSA key and loading it back (with its consistency
checks) costs about half a second, and running the Alembic migrations on a fresh
SQLite file a tenth of one; the suite builds hundreds of nodes. So the first node of
each city in a session gets its keys the normal way (``ensure_keys``), and later
nodes of that city get copies of those files (same modes) and the keys as loaded
once; the first fresh SQLite database is migrated the normal way and later ones are
copies of it. Different cities always have different keys; a key directory or a
database file that already exists is left to the normal path. PostgreSQL databases
are always migrated.

This module is imported under one name only (``tests.lib.support.templates``) so that
the session holds one set of templates.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sqlite3
import tempfile
import uuid
from pathlib import Path

from sqlalchemy.engine import make_url

from node.runtime import migrate
from node.runtime.config import Config
from node.runtime.db import create_engine
from node.runtime.keys import (
    ED25519_FILE,
    RSA_FILE,
    SECRET_FILE,
    NodeKeys,
    ensure_keys,
    keys_dir,
    load_keys,
)

KEY_FILES = (RSA_FILE, ED25519_FILE, SECRET_FILE)

_root: Path | None = None
_keys: dict[str, NodeKeys] = {}  # slug -> keys as loaded from its template directory
_sqlite_template: Path | None = None


def _templates() -> Path:
    global _root
    if _root is None:
        _root = Path(tempfile.mkdtemp(prefix="zwilling-test-templates-"))
        atexit.register(shutil.rmtree, _root, ignore_errors=True)
    return _root


def _copy_private(source: Path, target: Path) -> None:
    """Copy a key file the way ``ensure_keys`` writes one: created exclusively, 0600."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(source.read_bytes())


def install_keys(config: Config) -> NodeKeys:
    """The node's keys, on disk in its key directory and loaded."""
    slug = config.node.slug
    directory = keys_dir(config)
    fresh = not any((directory / name).exists() for name in KEY_FILES)
    own_secret = config.node.secret is None
    template = _templates() / "keys" / slug
    if fresh and own_secret and slug in _keys:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        for name in KEY_FILES:
            _copy_private(template / name, directory / name)
        return _keys[slug]
    ensure_keys(config)
    keys = load_keys(config)
    if fresh and own_secret and slug not in _keys:
        # Generated just now, all three files: they become the city's template.
        staging = template.with_name(f".{slug}-{uuid.uuid4().hex}")
        staging.mkdir(parents=True, mode=0o700)
        for name in KEY_FILES:
            _copy_private(directory / name, staging / name)
        staging.rename(template)
        _keys[slug] = keys
    return keys


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


async def _upgrade(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


async def _sqlite_head() -> Path:
    """A SQLite file migrated to head, made once per session, fully checkpointed."""
    global _sqlite_template
    if _sqlite_template is None:
        staging = _templates() / f"head-{uuid.uuid4().hex}.db"
        await _upgrade(f"sqlite+aiosqlite:///{staging}")
        _checkpoint(staging)
        _sqlite_template = staging
    return _sqlite_template


def _checkpoint(path: Path) -> None:
    """All pages in the main file, so that copying that one file is enough."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _absent(path: Path) -> bool:
    return not any(Path(f"{path}{suffix}").exists() for suffix in ("", "-wal", "-journal"))


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


async def migrated_database(url: str) -> None:
    """Bring the database at ``url`` to the head revision."""
    path = _sqlite_file(url)
    if path is not None and _absent(path):
        _copy(await _sqlite_head(), path)
        return
    await _upgrade(url)
