"""Moving and keeping a node's data: ``db copy``, ``backup`` and ``restore``.

Refusals (a target that is not empty, at another migration, a backup that was
altered, keys older than a known rotation) end with exit status 2 and one line;
failures while working end with status 1.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from node.cli._common import CommandError, add_command, config_from
from node.operations import backup as backups
from node.operations import restore as restores
from node.operations.copy import CopyFailed, CopyRefused, copy_database, shown
from node.operations.manifest import BackupInvalid
from node.operations.pg_tools import ToolFailed
from node.operations.tables import BATCH_ROWS
from node.runtime import migrate

COPY_HELP = """\
Copies every table of this node's database (database_url) into an empty PostgreSQL
database, ids included, parents before children, in batches; sets PostgreSQL's
sequences past the copied ids; then counts the rows and takes a SHA-256 digest of
each table on both sides and prints them, one table per line.

Stop the node first: what it writes after the copy began is not copied.
The target must be empty: a database without tables is migrated to the latest
revision first; one migrated with 'zwilling db upgrade' must be at the latest
revision and hold no rows. Anything else is refused (exit status 2).

A run that fails leaves the target marked (table zwilling_copy). Run the same
command with --resume: tables that already match are kept, the rest is copied
again. The mark is removed once every table matches."""

BACKUP_HELP = """\
Writes DIR/<slug>-<UTC time>/ (mode 0700, files 0600): the database (SQLite
through its online backup API, PostgreSQL through pg_dump --format=custom; both
take one consistent snapshot while the node keeps running), the keys directory
with the node secret, and manifest.json with the migration revision, the key
fingerprints, the time and the SHA-256 of every file. Keep backups where only
the node's admins can read them: they hold the private keys."""

RESTORE_HELP = """\
Restores BACKUP (a directory written by 'zwilling backup') into the configured
database and data directory. It checks every file against manifest.json first,
and refuses (exit status 2) when the database is not empty, is of the other kind,
or the key directory holds other keys. Keys older than a rotation recorded in the
key directory are refused too: peers would refuse the node's signatures until
their admins pin the old key again. --force restores them anyway and moves the
newer keys aside. Run 'zwilling db upgrade' afterwards if the backup is older
than the code, then 'zwilling check'."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = add_command(
        commands, "backup", "write a consistent backup of database and keys", BACKUP_HELP
    )
    backup.add_argument("directory", metavar="DIR", type=Path, help="where the backup goes")
    backup.set_defaults(handler=cmd_backup)
    restore = add_command(
        commands, "restore", "restore a backup into an empty database", RESTORE_HELP
    )
    restore.add_argument("backup", metavar="BACKUP", type=Path, help="the backup's directory")
    restore.add_argument(
        "--force", action="store_true", help="restore keys older than a known rotation"
    )
    restore.set_defaults(handler=cmd_restore)


def register_db_copy(db_commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``db copy``, added to the ``db`` group by ``_maintenance``."""
    copy = add_command(
        db_commands, "copy", "copy the whole database to an empty PostgreSQL one", COPY_HELP
    )
    copy.add_argument("--to", required=True, metavar="URL", help="postgresql+asyncpg://…")
    copy.add_argument(
        "--resume", action="store_true", help="complete a copy that failed part of the way"
    )
    copy.add_argument("--batch-rows", type=int, default=BATCH_ROWS, help=argparse.SUPPRESS)
    copy.set_defaults(handler=cmd_db_copy)


def cmd_db_copy(args: argparse.Namespace) -> int:
    config = config_from(args)
    try:
        copying = copy_database(
            config.database_url, args.to, resume=args.resume, batch_rows=args.batch_rows
        )
        checks = asyncio.run(copying)
    except CopyRefused as exc:
        raise CommandError(str(exc), status=2) from None
    except CopyFailed as exc:
        raise CommandError(str(exc)) from None
    print(f"verified {shown(config.database_url)} -> {shown(args.to)}:")
    for check in checks:
        source, target = check.source, check.target
        line = f"  {source.table:<22} {source.rows:>9} rows  sha256 {source.sha256[:16]}"
        if check.ok:
            print(f"{line}  ok")
        else:
            print(f"{line}  DIFFERS: target {target.rows} rows, sha256 {target.sha256[:16]}")
    failed = [check.source.table for check in checks if not check.ok]
    if failed:
        raise CommandError(
            f"copy differs from the source in {', '.join(failed)}; run again with --resume"
        )
    print("copy complete: set database_url to the new database and start the node")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    config = config_from(args)
    try:
        written = backups.backup(config, args.directory.absolute())
    except (backups.BackupFailed, ToolFailed) as exc:
        raise CommandError(str(exc)) from None
    print(f"backup written: {written}")
    for path in sorted(p for p in written.rglob("*") if p.is_file()):
        print(f"  {path.relative_to(written)}  {path.stat().st_size} bytes")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    config = config_from(args)
    try:
        restored = restores.restore(config, args.backup.absolute(), force=args.force)
    except (BackupInvalid, restores.RestoreRefused) as exc:
        raise CommandError(str(exc), status=2) from None
    except ToolFailed as exc:
        raise CommandError(str(exc)) from None
    manifest = restored.manifest
    print(f"restored the backup of {manifest.created_at.isoformat(timespec='seconds')}")
    print(f"  database: {shown(config.database_url)} at migration {manifest.revision}")
    print(f"  keys: RSA {manifest.rsa}, Ed25519 {manifest.ed25519}")
    head = migrate.head_revision()
    if manifest.revision != head:
        print(f"the backup is at migration {manifest.revision}, the latest is {head}:")
        print("run 'zwilling db upgrade', then 'zwilling check'")
    else:
        print("next: 'zwilling check', then start the node")
    return 0
