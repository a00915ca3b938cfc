"""What the benchmarks that start a node share: a free loopback port, a node's config
(in this process, or as a file for a node in a process of its own), a throw-away
PostgreSQL database for it, and partner profiles as the node stores them."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matching.profile import InterestProfile


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def node_config(directory: Path, port: int, database_url: str) -> Any:
    """Oldenburg's node on loopback, k-anonymity 1 (seeded vectors stay as they are)."""
    from node.runtime.config import config_from_mapping

    document = {
        "node": {
            "slug": "oldenburg",
            "city": "Oldenburg",
            "base_url": f"http://127.0.0.1:{port}",
            "default_language": "de",
            "minimum_age": 16,
            "database_url": database_url,
        },
        "listen": {"host": "127.0.0.1", "port": port},
        "branding": {"portal_name": "MeinZwilling"},
        "matching": {"k_anonymity": 1},
    }
    return config_from_mapping(document, data_dir=directory / "node", environ={})


def write_config(directory: Path, port: int, database_url: str, k: int | None = None) -> Path:
    """Oldenburg's node on loopback as a config file, for a node started in a process
    of its own; k-anonymity ``k`` (the node's default when None)."""
    config = directory / "bench.toml"
    matching = "" if k is None else f"\n[matching]\nk_anonymity = {k}\n"
    config.write_text(
        f"""
[node]
slug = "oldenburg"
city = "Oldenburg"
base_url = "http://127.0.0.1:{port}"
default_language = "de"
minimum_age = 16
database_url = "{database_url}"

[listen]
host = "127.0.0.1"
port = {port}

[branding]
portal_name = "MeinZwilling"
{matching}""",
        encoding="utf-8",
    )
    return config


async def scratch_postgres(server_url: str, name: str, action: str) -> str:
    """Create or drop a throw-away database on the server (never touch its own ones)."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            if action == "CREATE":
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
            else:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def profile_row(resident_id: int, person: InterestProfile) -> dict[str, Any]:
    """A completed ``profiles`` row holding what ``person``'s profile says."""
    return {
        "resident_id": resident_id,
        "interests": list(person.interests),
        "occupation": person.occupation,
        "languages": dict(person.languages),
        "learning": list(person.learning),
        "age_band": person.age_band,
        "children_age_bands": list(person.children_age_bands),
        "completed": True,
    }


def remote_profile_rows(
    peer_id: int, people: Iterable[InterestProfile], now: datetime
) -> list[dict[str, Any]]:
    """``remote_profiles`` rows of a partner city's residents, as if received from it."""
    from node.vectors.stored import stored_form

    return [
        {
            "peer_id": peer_id,
            "actor_url": person.id,
            "vector": stored_form(person),
            "updated": now,
            "sequence": 1,
        }
        for person in people
    ]
