"""``zwilling restore DIR``: a backup back into an empty database and data directory.

Before anything is written: every file is checked against the manifest; the
configured database must be empty (no SQLite file with tables; no table in the
PostgreSQL schema) and of the backup's kind; and the key directory must be empty or
hold the backup's own keys.

Keys older than a rotation the peers know about are refused. A key directory that
holds other keys which retired the backup's RSA key, or any key retired after the
backup was made, records such a rotation: the peers were told of the newer key and
stopped trusting the old one after ``key_grace_days``, so a node restored with it
would have its signatures refused until each partner admin pins it again
(``zwilling peer add``). ``force`` restores anyway and moves the newer keys aside
(``keys.replaced-<UTC time>``) rather than deleting them. A fresh machine records no
rotation; the admin knows whether one happened since the backup.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from federation.keys import fingerprint, load_private_key_pem
from node.models import utcnow
from node.operations import pg_tools
from node.operations.backup import KEYS, STAMP, sqlite_path
from node.operations.manifest import Manifest, read_verified
from node.runtime.config import Config
from node.runtime.db import create_engine, is_sqlite
from node.runtime.files import PRIVATE_FILE, private_directory, write_private
from node.runtime.keys import ED25519_FILE, RSA_FILE, SECRET_FILE, keys_dir, retired_keys

CONSEQUENCE = (
    "peers pinned the newer key and will refuse this node's signatures (deliveries fail"
    " with 401) until each partner admin pins the restored key again (zwilling peer add)"
)


class RestoreRefused(Exception):
    """Restoring would lose or overwrite something, or the backup is not intact."""


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    replaced_keys: Path | None


def _table_names(connection: Connection) -> list[str]:
    return list(inspect(connection).get_table_names())


async def _tables(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_table_names)
    finally:
        await engine.dispose()


def _check_database(config: Config, manifest: Manifest) -> None:
    url = config.database_url
    backend = "sqlite" if is_sqlite(url) else "postgresql"
    if backend != manifest.backend:
        raise RestoreRefused(
            f"the backup holds a {manifest.backend} database, the configured database_url is"
            f" {backend}; restore with a {manifest.backend} URL (then 'zwilling db copy' to move)"
        )
    if backend == "sqlite":
        path = sqlite_path(url)
        companions = [path.with_name(path.name + suffix) for suffix in ("-wal", "-journal")]
        if any(p.exists() and p.stat().st_size for p in (path, *companions)):
            raise RestoreRefused(f"{path}: exists and is not empty; restore needs an empty target")
        return
    tables = asyncio.run(_tables(url))
    if tables:
        raise RestoreRefused(
            f"the configured PostgreSQL database is not empty ({len(tables)} tables, e.g."
            f" {sorted(tables)[0]}); restore needs an empty database"
        )


def _fingerprint_of(path: Path) -> str | None:
    try:
        key = load_private_key_pem(path.read_bytes())
    except (OSError, ValueError):
        return None
    return fingerprint(key.public_key())


def _check_keys(directory: Path, manifest: Manifest, force: bool) -> bool:
    """True when the key directory holds other keys that ``force`` lets move aside."""
    present = [p for p in directory.glob("*") if p.is_file()] if directory.is_dir() else []
    if not present:
        return False
    rsa = _fingerprint_of(directory / RSA_FILE)
    ed25519 = _fingerprint_of(directory / ED25519_FILE)
    if (rsa, ed25519) == (manifest.rsa, manifest.ed25519):
        return False
    newer = [
        key
        for key in retired_keys(directory)
        if key.fingerprint == manifest.rsa or key.retired_at > manifest.created_at
    ]
    if newer:
        when = newer[0].retired_at.isoformat(timespec="seconds")
        reason = (
            f"{directory} records a key rotation at {when}, after this backup's key"
            f" {manifest.rsa}: {CONSEQUENCE}"
        )
    else:
        reason = f"{directory} holds other keys (RSA {rsa}); restore needs an empty key directory"
    if not force:
        raise RestoreRefused(f"{reason}. Restore anyway with --force")
    return True


def _copy_private(source: Path, target: Path) -> None:
    scratch = target.with_name(target.name + ".restoring")
    shutil.copyfile(source, scratch)
    os.chmod(scratch, PRIVATE_FILE)
    os.replace(scratch, target)


def restore(
    config: Config, backup: Path, *, force: bool = False, say: Callable[[str], None] = print
) -> Restored:
    manifest = read_verified(backup)
    _check_database(config, manifest)
    keys = keys_dir(config)
    move_aside = _check_keys(keys, manifest, force)
    private_directory(config.data_dir)
    database = backup / manifest.database_file
    if manifest.backend == "sqlite":
        target = sqlite_path(config.database_url)
        private_directory(target.parent)
        _copy_private(database, target)
    else:
        pg_tools.restore(config.database_url, database)  # all or nothing
    replaced = None
    if move_aside:
        replaced = keys.with_name(f"{keys.name}.replaced-{utcnow().strftime(STAMP)}")
        keys.rename(replaced)
        say(f"warning: restoring older keys; {CONSEQUENCE}")
        say(f"the newer keys were moved to {replaced}")
    private_directory(keys)
    for source in sorted((backup / KEYS).iterdir()):
        wanted = source.read_bytes()
        existing = keys / source.name
        if not (existing.is_file() and existing.read_bytes() == wanted):
            write_private(existing, wanted)
    secret = backup / KEYS / SECRET_FILE
    configured = config.node.secret
    if (
        configured is not None
        and secret.is_file()
        and secret.read_bytes().strip() != (configured.strip().encode())
    ):
        say(
            "warning: the configured node secret differs from the backed-up one: the"
            " node will publish its residents under new pseudonyms, and residents with"
            " two-factor sign-in will have to set it up again"
        )
    return Restored(manifest, replaced)
