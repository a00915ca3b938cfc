"""``zwilling backup`` and ``zwilling restore``: a backup taken while residents register
restores elsewhere into a node that starts, passes ``zwilling check`` and holds
everyone who had registered before the backup began; an altered backup, a target
that is not empty and keys older than a known rotation are refused."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import shutil
import stat
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from node.cli import main
from node.models import Resident
from node.operations.manifest import sha256_of
from node.runtime import migrate
from node.runtime.db import Database
from node.runtime.keys import RSA_FILE, load_keys
from support.contacts import add_account
from support.databases import ENV, fresh_postgres_database
from support.federation import wait_for
from support.nodes import RunningNode, prepare_node, write_config
from support.web import PASSWORD, Visitor

ADMIN = "stadt-it@oldenburg.example"
MANY_REQUESTS = {"limits": {"requests_per_client_per_hour": 10_000}}


@dataclass
class Result:
    status: int
    out: str
    err: str


def _run(argv: list[str]) -> Result:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status: int | str | None = main(argv)
        except SystemExit as exc:
            status = exc.code
    return Result(status if isinstance(status, int) else 1, out.getvalue(), err.getvalue())


async def zwilling(*args: str) -> Result:
    """The command as city IT runs it: ``main(argv)`` with an event loop of its own, in a
    thread, while the test's nodes keep serving on this loop."""
    return await asyncio.to_thread(_run, list(args))


async def emails(url: str) -> set[str]:
    db = Database.open(url)
    try:
        async with db.read() as session:
            return set((await session.scalars(select(Resident.email))).all())
    finally:
        await db.dispose()


@contextlib.asynccontextmanager
async def registering(node: RunningNode) -> AsyncIterator[list[str]]:
    """Residents register through the page, one after the other, until the block ends."""
    done: list[str] = []
    stop = asyncio.Event()

    async def loop() -> None:
        async with Visitor(node) as visitor:
            while not stop.is_set():
                email = f"load{len(done)}@oldenburg.example"
                assert (await visitor.register(email)).status_code == 200
                done.append(email)

    task = asyncio.create_task(loop())
    try:

        async def warmed_up() -> bool:
            return len(done) >= 3 or task.done()

        await wait_for(warmed_up, what="the first registrations")
        yield done
    finally:
        stop.set()
        await task


def with_database(node: RunningNode, url: str, data_dir: Path) -> RunningNode:
    config = node.config.model_copy(
        update={
            "node": node.config.node.model_copy(update={"database_url": url}),
            "data_dir": data_dir,
        }
    )
    # The same port (the node is stopped by then): base_url stays right.
    return RunningNode(config=config, keys=node.keys, sock=node.sock)


def cli(node: RunningNode, config_file: Path) -> list[str]:
    return ["--config", str(config_file), "--data-dir", str(node.config.data_dir)]


def written(out: str) -> Path:
    line = next(line for line in out.splitlines() if line.startswith("backup written: "))
    return Path(line.removeprefix("backup written: "))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def round_trip(tmp_path: Path, source_url: str, target_url: str) -> Path:
    node = await prepare_node(tmp_path, "oldenburg", source_url, overrides=MANY_REQUESTS)
    config_file = write_config(node, tmp_path / "oldenburg.toml")
    await node.start()
    try:
        await add_account(node, ADMIN)
        async with registering(node) as registered:
            before = await emails(node.config.database_url)
            started = len(registered)
            made = await zwilling(*cli(node, config_file), "backup", str(tmp_path / "backups"))
            assert made.status == 0, made.err

            async def more() -> bool:  # at least one commit that began after the backup
                return len(registered) >= started + 2

            await wait_for(more, what="registrations after the backup")
        after = await emails(node.config.database_url)
        assert len(registered) > 3 and {ADMIN, *registered[:3]} <= before < after
    finally:
        await node.stop()

    backup = written(made.out)
    assert backup.parent == tmp_path / "backups" and backup.name.startswith("oldenburg-")
    assert mode(backup) == 0o700 and mode(backup / "keys") == 0o700
    files = [path for path in backup.rglob("*") if path.is_file()]
    assert files and all(mode(path) == 0o600 for path in files)
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["database"]["migration_revision"] == migrate.head_revision()
    assert manifest["keys"]["rsa"] == node.keys.rsa_fingerprint
    assert manifest["keys"]["ed25519"] == node.keys.ed25519_fingerprint
    listed = manifest["files"]
    assert {"keys/node-secret", f"keys/{RSA_FILE}", manifest["database"]["file"]} <= set(listed)
    assert all(sha256_of(backup / name) == entry["sha256"] for name, entry in listed.items())

    restored = with_database(node, target_url, tmp_path / "restored")
    restored_file = write_config(restored, tmp_path / "restored.toml")
    put_back = await zwilling(*cli(restored, restored_file), "restore", str(backup))
    assert put_back.status == 0, put_back.err
    check = await zwilling(*cli(restored, restored_file), "check")
    assert check.status == 0, check.out
    assert f"[ok] database: reachable, at {migrate.head_revision()}" in check.out
    held = await emails(restored.config.database_url)
    assert before <= held <= after

    restored.keys = load_keys(restored.config)
    assert restored.keys.rsa_fingerprint == node.keys.rsa_fingerprint
    await restored.start()
    try:
        async with httpx.AsyncClient(base_url=restored.url) as client:
            assert (await client.get("/healthz")).status_code == 200
        async with Visitor(restored) as admin:
            assert (await admin.login(ADMIN, PASSWORD)).status_code == 303
    finally:
        await restored.stop()

    again = await zwilling(*cli(restored, restored_file), "restore", str(backup))
    assert again.status == 2 and "not empty" in again.err, again.err
    assert len(again.err.strip().splitlines()) == 1
    return backup


async def test_sqlite_backup_under_load_restores_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    url = "sqlite+aiosqlite:///node.db"  # in each data directory
    backup = await round_trip(tmp_path, url, url)
    assert (backup / "database.sqlite").is_file()

    tampered = tmp_path / "tampered"
    shutil.copytree(backup, tampered)
    database = tampered / "database.sqlite"
    data = bytearray(database.read_bytes())
    data[-1] ^= 0x01
    database.write_bytes(bytes(data))
    empty = tmp_path / "empty"
    refused = await zwilling(
        "--config",
        str(tmp_path / "restored.toml"),
        "--data-dir",
        str(empty),
        "restore",
        str(tampered),
    )
    assert refused.status == 2 and "database.sqlite: SHA-256 differs" in refused.err
    assert not empty.exists()

    extra = tmp_path / "extra"
    shutil.copytree(backup, extra)
    (extra / "keys" / "http-signature-rsa-retired-20300101T000000000000Z.pem").write_text("x")
    refused = await zwilling(
        "--config",
        str(tmp_path / "restored.toml"),
        "--data-dir",
        str(empty),
        "restore",
        str(extra),
    )
    assert refused.status == 2 and "not listed in manifest.json" in refused.err


async def test_keys_older_than_a_rotation_need_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    node = await prepare_node(tmp_path, "oldenburg", "sqlite+aiosqlite:///node.db")
    config = cli(node, write_config(node, tmp_path / "oldenburg.toml"))
    made = await zwilling(*config, "backup", str(tmp_path / "backups"))
    assert made.status == 0, made.err
    backup = written(made.out)
    rotated = await zwilling(*config, "keys", "rotate")
    assert rotated.status == 0, rotated.err
    newer = load_keys(node.config).rsa_fingerprint
    assert newer != node.keys.rsa_fingerprint
    # The database is lost; the key directory with the rotation is still there.
    database = node.config.data_dir / "node.db"
    for each in node.config.data_dir.glob("node.db*"):
        each.rename(each.with_name(each.name + ".lost"))

    refused = await zwilling(*config, "restore", str(backup))
    assert refused.status == 2
    assert len(refused.err.strip().splitlines()) == 1, refused.err
    assert "records a key rotation" in refused.err and "zwilling peer add" in refused.err
    assert not database.exists()
    assert load_keys(node.config).rsa_fingerprint == newer

    forced = await zwilling(*config, "restore", "--force", str(backup))
    assert forced.status == 0, forced.err
    assert "will refuse this node's signatures" in forced.out
    assert load_keys(node.config).rsa_fingerprint == node.keys.rsa_fingerprint
    aside = list(node.config.data_dir.glob("keys.replaced-*"))
    assert len(aside) == 1 and any(aside[0].glob("http-signature-rsa-retired-*.pem"))
    check = await zwilling(*config, "check")
    assert check.status == 0, check.out


@pytest.mark.postgres
async def test_postgresql_backup_under_load_restores_elsewhere(
    tmp_path: Path, postgres_url: str
) -> None:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump / pg_restore not installed (Debian: postgresql-client)")
    async with (
        fresh_postgres_database(postgres_url) as source,
        fresh_postgres_database(postgres_url) as target,
    ):
        backup = await round_trip(tmp_path, source, target)
        assert (backup / "database.pgdump").is_file()
