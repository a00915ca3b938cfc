"""``zwilling backup DIR``: the database, the keys and the node secret, as they were at
one moment, with a manifest that lets ``zwilling restore`` check them.

A backup is a directory ``<slug>-<UTC time>`` (0700; every file 0600) under ``DIR``,
written as ``.<name>.partial`` and renamed when complete, so a backup that was
interrupted never looks like one:

- ``database.sqlite``: SQLite's online backup API, in one step, which copies a
  consistent snapshot while the node keeps writing (WAL readers never block writers);
- ``database.pgdump``: ``pg_dump --format=custom``, itself one snapshot;
- ``keys/``: every file of the key directory (current and retired keys, the secret;
  a secret set in the configuration is written there too, so the backup is whole);
- ``manifest.json`` (``node.operations.manifest``).

The keys are read before and after the database; should they differ (a key rotation
in between), the backup starts over, so database and keys belong together.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from federation.keys import fingerprint, load_private_key_pem
from node.models import utcnow
from node.operations import pg_tools
from node.operations.manifest import Manifest, RetiredEntry, listed_files, sha256_of
from node.runtime import migrate
from node.runtime.config import Config
from node.runtime.db import SQLITE_BUSY_TIMEOUT_MS, create_engine, is_sqlite
from node.runtime.files import PRIVATE_DIRECTORY, private_directory, write_private
from node.runtime.keys import ED25519_FILE, RSA_FILE, SECRET_FILE, keys_dir, retired_keys

SQLITE_FILE = "database.sqlite"
POSTGRES_FILE = "database.pgdump"
KEYS = "keys"
STAMP = "%Y%m%dT%H%M%SZ"
ATTEMPTS = 3


class BackupFailed(Exception):
    """The backup could not be written; nothing named like a backup was left behind."""


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupFailed(f"database {url}: not a SQLite file that can be backed up")
    return Path(database)


def _key_files(config: Config) -> dict[str, bytes]:
    directory = keys_dir(config)
    found = {
        path.name: path.read_bytes()
        for path in sorted(directory.glob("*"))
        if path.is_file() and (path.suffix == ".pem" or path.name == SECRET_FILE)
    }
    if RSA_FILE not in found or ED25519_FILE not in found:
        raise BackupFailed(f"{directory}: the node's keys are missing; nothing to back up")
    if config.node.secret is not None:
        found[SECRET_FILE] = config.node.secret.strip().encode()
    return found


def _sqlite_backup(source: Path, target: Path) -> str | None:
    """Copy the database in one step of the online backup API; its revision."""
    if not source.is_file():
        raise BackupFailed(f"{source}: no database file")
    write_private(target, b"")
    origin = sqlite3.connect(source, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    copy = sqlite3.connect(target)
    try:
        origin.execute("PRAGMA query_only=ON")
        origin.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        row = copy.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error as exc:
        raise BackupFailed(f"{source}: {exc}") from None
    finally:
        copy.close()
        origin.close()
    return str(row[0]) if row else None


async def _postgres_revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        return await migrate.current_revision(engine)
    finally:
        await engine.dispose()


def _postgres_backup(url: str, target: Path) -> str | None:
    before = asyncio.run(_postgres_revision(url))
    write_private(target, b"")
    pg_tools.dump(url, target)
    os.chmod(target, 0o600)
    if asyncio.run(_postgres_revision(url)) != before:
        raise BackupFailed("the database was migrated during the backup; run it again")
    return before


def _write_keys(directory: Path, files: dict[str, bytes]) -> None:
    keys = directory / KEYS
    keys.mkdir(mode=PRIVATE_DIRECTORY)
    os.chmod(keys, PRIVATE_DIRECTORY)
    for name, data in files.items():
        write_private(keys / name, data)


def _fingerprint(pem: bytes) -> str:
    key = load_private_key_pem(pem)
    return fingerprint(key.public_key())


def _attempt(config: Config, directory: Path, now: datetime) -> Manifest:
    keys_before = _key_files(config)
    url = config.database_url
    if is_sqlite(url):
        backend, database_file = "sqlite", SQLITE_FILE
        revision = _sqlite_backup(sqlite_path(url), directory / SQLITE_FILE)
    else:
        backend, database_file = "postgresql", POSTGRES_FILE
        revision = _postgres_backup(url, directory / POSTGRES_FILE)
    if _key_files(config) != keys_before:
        raise _KeysMoved
    _write_keys(directory, keys_before)
    retired = retired_keys(directory / KEYS)
    return Manifest(
        created_at=now,
        node=config.node.slug,
        actor_url=config.actor_url,
        backend=backend,
        database_file=database_file,
        revision=revision,
        rsa=_fingerprint(keys_before[RSA_FILE]),
        ed25519=_fingerprint(keys_before[ED25519_FILE]),
        retired=tuple(RetiredEntry(key.fingerprint, key.retired_at) for key in retired),
        files={name: sha256_of(directory / name) for name in listed_files(directory)},
    )


class _KeysMoved(Exception):
    pass


def backup(config: Config, parent: Path, say: Callable[[str], None] = print) -> Path:
    """Write one backup under ``parent``; its directory."""
    private_directory(parent)
    for _ in range(ATTEMPTS):
        now = utcnow()
        name = f"{config.node.slug}-{now.strftime(STAMP)}"
        final = parent / name
        if final.exists():
            raise BackupFailed(f"{final}: exists already; wait a second and run again")
        partial = parent / f".{name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(mode=PRIVATE_DIRECTORY)
        os.chmod(partial, PRIVATE_DIRECTORY)
        try:
            manifest = _attempt(config, partial, now)
        except _KeysMoved:
            shutil.rmtree(partial, ignore_errors=True)
            say("the keys changed during the backup (a key rotation?); starting again")
            continue
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        manifest.write(partial)
        partial.rename(final)
        return final
    raise BackupFailed("the keys kept changing during the backup; run it again")
