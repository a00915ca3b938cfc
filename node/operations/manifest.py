"""``manifest.json``: what a backup holds and how to tell it arrived intact.

It names the migration revision of the database, the node's key fingerprints (the
retired ones with the moment of their rotation, which restore compares with the
data directory it fills) and the SHA-256 of every other file in the backup. Restore
checks every file against it, and refuses a backup with a file it does not list.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from node.runtime.files import write_private

MANIFEST = "manifest.json"
FORMAT = 1
CHUNK = 1 << 20


class BackupInvalid(Exception):
    """The backup cannot be trusted as written; the message names the file."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def listed_files(directory: Path) -> list[str]:
    """Every file under ``directory`` but the manifest, as relative POSIX paths."""
    return sorted(
        path.relative_to(directory).as_posix()
        for path in directory.rglob("*")
        if path.is_file() and path.name != MANIFEST
    )


@dataclass(frozen=True)
class RetiredEntry:
    fingerprint: str
    retired_at: datetime


@dataclass(frozen=True)
class Manifest:
    created_at: datetime
    node: str
    actor_url: str
    backend: str  # "sqlite" or "postgresql"
    database_file: str
    revision: str | None
    rsa: str
    ed25519: str
    retired: tuple[RetiredEntry, ...]  # newest first
    files: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "created_at": self.created_at.isoformat(),
            "node": {"slug": self.node, "actor_url": self.actor_url},
            "database": {
                "backend": self.backend,
                "file": self.database_file,
                "migration_revision": self.revision,
            },
            "keys": {
                "rsa": self.rsa,
                "ed25519": self.ed25519,
                "retired": [
                    {"fingerprint": r.fingerprint, "retired_at": r.retired_at.isoformat()}
                    for r in self.retired
                ],
            },
            "files": {name: {"sha256": sha} for name, sha in sorted(self.files.items())},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        if data.get("format") != FORMAT:
            raise BackupInvalid(f"{MANIFEST}: format {data.get('format')!r} is not {FORMAT}")
        database, keys = data["database"], data["keys"]
        return cls(
            created_at=datetime.fromisoformat(data["created_at"]),
            node=data["node"]["slug"],
            actor_url=data["node"]["actor_url"],
            backend=database["backend"],
            database_file=database["file"],
            revision=database["migration_revision"],
            rsa=keys["rsa"],
            ed25519=keys["ed25519"],
            retired=tuple(
                RetiredEntry(r["fingerprint"], datetime.fromisoformat(r["retired_at"]))
                for r in keys["retired"]
            ),
            files={name: entry["sha256"] for name, entry in data["files"].items()},
        )

    def write(self, directory: Path) -> None:
        text = json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n"
        write_private(directory / MANIFEST, text.encode())


def read_verified(directory: Path) -> Manifest:
    """The manifest, once every file it lists matches and no other file is there."""
    try:
        manifest = Manifest.from_json(json.loads((directory / MANIFEST).read_text("utf-8")))
    except OSError as exc:
        raise BackupInvalid(f"{directory / MANIFEST}: cannot read ({exc.strerror})") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupInvalid(f"{directory / MANIFEST}: not a backup manifest ({exc})") from None
    for name, expected in manifest.files.items():
        relative = PurePosixPath(name)
        if relative.is_absolute() or ".." in relative.parts:
            raise BackupInvalid(f"{MANIFEST}: lists a path outside the backup: {name}")
        path = directory / relative
        if not path.is_file():
            raise BackupInvalid(f"{path}: listed in {MANIFEST} but missing")
        if sha256_of(path) != expected:
            raise BackupInvalid(f"{path}: SHA-256 differs from {MANIFEST}; the backup was altered")
    unlisted = sorted(set(listed_files(directory)) - set(manifest.files))
    if unlisted:
        raise BackupInvalid(f"{directory / unlisted[0]}: not listed in {MANIFEST}")
    return manifest
