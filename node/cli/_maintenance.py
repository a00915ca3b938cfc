"""Set-up and inspection commands: init, db upgrade, check (``keys show`` is in _keys)."""

from __future__ import annotations

import argparse
import asyncio

from sqlalchemy import func, select

from federation.keys import fingerprint, published_key_id
from node.cli._common import CommandError, add_command, config_from
from node.cli._database import register_db_copy
from node.models import Peer, PeerKey, utcnow
from node.peers.registry import usable
from node.runtime import migrate
from node.runtime.config import Config
from node.runtime.db import Database, create_engine
from node.runtime.files import private_directory
from node.runtime.keys import KeyFileError, ensure_keys, keys_dir, load_keys


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    init = add_command(
        commands,
        "init",
        "create the data directory, database and key pairs (safe to run again)",
        "Creates the data directory and the database, applies the migrations and\n"
        "generates the node's key pairs (RSA for HTTP signatures, Ed25519 for object\n"
        "proofs) and its pseudonym secret as files readable by the owner only.\n"
        "Running it again changes nothing and never overwrites a key.",
    )
    init.set_defaults(handler=cmd_init)

    db = add_command(commands, "db", "database maintenance")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = add_command(
        db_commands,
        "upgrade",
        "apply pending migrations",
        "Brings the database schema up to date (SQLite or PostgreSQL). Back up first.",
    )
    upgrade.set_defaults(handler=cmd_db_upgrade)
    register_db_copy(db_commands)

    check = add_command(
        commands,
        "check",
        "report whether config, database, keys and peers are in order",
    )
    check.set_defaults(handler=cmd_check)


def cmd_init(args: argparse.Namespace) -> int:
    config = config_from(args)
    private_directory(config.data_dir)
    created = ensure_keys(config)
    asyncio.run(_upgrade(config))
    print(f"data directory: {config.data_dir}")
    print(f"database: migrated to {migrate.head_revision()}")
    if created:
        print("created: " + ", ".join(created))
    else:
        print("keys: already present, left unchanged")
    _print_fingerprints(config)
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    config = config_from(args)
    asyncio.run(_upgrade(config))
    print(f"database: migrated to {migrate.head_revision()}")
    return 0


def cmd_keys_show(args: argparse.Namespace) -> int:
    _print_fingerprints(config_from(args))
    return 0


def _print_fingerprints(config: Config) -> None:
    try:
        keys = load_keys(config)
    except KeyFileError as exc:
        raise CommandError(str(exc)) from None
    print(f"node: {config.node.city} ({config.actor_url})")
    actor = config.actor_url
    print(f"  {keys.rsa_key_id(actor)}      RSA      {fingerprint(keys.rsa.public_key())}")
    print(f"  {keys.ed25519_key_id(actor)}   Ed25519  {fingerprint(keys.ed25519.public_key())}")
    for retired in keys.retired:
        stamp = retired.retired_at.isoformat(timespec="seconds")
        print(
            f"  {published_key_id(actor, retired.rsa)}      RSA      {retired.fingerprint}"
            f"  (retired {stamp})"
        )


async def _upgrade(config: Config) -> None:
    engine = create_engine(config.database_url)
    try:
        await migrate.upgrade(engine)
    except Exception as exc:
        raise CommandError(f"database {engine.url!r}: {exc}") from None
    finally:
        await engine.dispose()


def cmd_check(args: argparse.Namespace) -> int:
    config = config_from(args)
    lines: list[tuple[bool, str]] = [(True, f"config: {config.source} is valid")]
    try:
        keys = load_keys(config)
        lines.append((True, f"keys: present and readable in {keys_dir(config)}"))
        lines.append((True, f"  RSA {keys.rsa_fingerprint}"))
        lines.append((True, f"  Ed25519 {keys.ed25519_fingerprint}"))
    except KeyFileError as exc:
        lines.append((False, f"keys: {exc}"))
    database_lines, db_pinned = asyncio.run(_check_database(config))
    lines.extend(database_lines)
    for peer in config.peers:
        extra = db_pinned.pop(peer.actor_url, [])
        pinned = ", ".join([*peer.fingerprints, *(f"{fp} (database)" for fp in extra)])
        pinned = pinned or "no fingerprint pinned yet (zwilling peer add)"
        trusted = bool(peer.fingerprints or extra)
        lines.append((trusted, f"peer (config): {peer.actor_url}: {pinned}"))
    for actor_url, fingerprints in db_pinned.items():
        pinned = ", ".join(fingerprints) or "no usable key pinned (zwilling peer add)"
        lines.append((bool(fingerprints), f"peer (database): {actor_url}: {pinned}"))
    if not config.peers:
        lines.append((True, "peers: none configured in the file"))
    legal_lines, warnings = _check_legal(config)
    lines.extend(legal_lines)
    for ok, line in lines:
        print(f"[{'ok' if ok else '!!'}] {line}")
    for line in warnings:
        print(f"[warn] {line}")
    return 0 if all(ok for ok, _ in lines) else 1


def _check_legal(config: Config) -> tuple[list[tuple[bool, str]], list[str]]:
    """A missing [legal] section is a warning (the pages then say "operator not
    configured"); a configured text file that cannot be read is a problem."""
    legal = config.legal
    if legal is None:
        return [], [
            "legal: no [legal] section: the privacy notice and the legal notice show "
            "'operator not configured'; fill in operator, address, email, dpo_name, dpo_contact"
        ]
    lines: list[tuple[bool, str]] = [(True, f"legal: operator {legal.operator}")]
    warnings: list[str] = []
    for text in ("privacy", "notice"):
        if legal.text_file(text, "en") is None:
            continue
        for language in ("de", "fr", "en"):
            path = config.path(legal.text_file(text, language) or "")
            if path.is_file():
                lines.append((True, f"legal: {text} text ({language}): {path}"))
            elif language == config.node.default_language:
                lines.append((False, f"legal: {text} text ({language}): {path} not found"))
            else:
                warnings.append(
                    f"legal: {text} text ({language}): {path} not found; "
                    f"the {config.node.default_language} text is shown"
                )
    return lines, warnings


async def _check_database(
    config: Config,
) -> tuple[list[tuple[bool, str]], dict[str, list[str]]]:
    """Database lines, and per peer the fingerprints pinned in the database beyond the
    config's (``peer add``, rotations): they make a config peer trusted too."""
    db = Database.open(config.database_url)
    engine = db.engine
    try:
        await db.ping()
    except Exception as exc:
        await db.dispose()
        return [(False, f"database: unreachable: {exc}")], {}
    try:
        current = await migrate.current_revision(engine)
        head = migrate.head_revision()
        result = [(current == head, f"database: reachable, at {current}, latest is {head}")]
        pinned: dict[str, list[str]] = {}
        if current == head:
            async with engine.connect() as connection:
                peers = (await connection.execute(select(func.count()).select_from(Peer))).scalar()
                rows = await connection.execute(
                    select(Peer.actor_url, PeerKey.fingerprint)
                    .outerjoin(
                        PeerKey,
                        (PeerKey.peer_id == Peer.id)
                        & (PeerKey.pinned_by != "config")
                        & usable(utcnow()),
                    )
                    .order_by(Peer.id, PeerKey.id)
                )
                for actor_url, fingerprint_ in rows.all():
                    pinned.setdefault(actor_url, [])
                    if fingerprint_:
                        pinned[actor_url].append(fingerprint_)
            result.append((True, f"peers in database: {peers}"))
        else:
            result.append((False, "database: run 'zwilling db upgrade'"))
        return result, pinned
    finally:
        await engine.dispose()
