"""Real nodes for tests: keys on disk, a migrated database, an aiohttp server on a
loopback port chosen by the kernel, and configs that pin each other as peers."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from federation.keys import fingerprint
from node.app import Extension, create_app
from node.federation.appkeys import DELIVERY_WAKE
from node.runtime import appkeys
from node.runtime.config import Config, config_from_mapping
from node.runtime.db import Database
from node.runtime.keys import NodeKeys
from tests.lib.support.databases import scratch_database
from tests.lib.support.templates import install_keys, migrated_database

CITIES = {
    "oldenburg": {"city": "Oldenburg", "lang": "de", "age": 16, "portal": "MeinZwilling"},
    "cholet": {"city": "Cholet", "lang": "fr", "age": 15, "portal": "MonJumeau"},
    "taastrup": {"city": "Taastrup", "lang": "en", "age": 15, "portal": "MyTwin"},
}


def bound_socket() -> socket.socket:
    """A listening-ready socket on a free loopback port (no race between pick and bind)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def node_document(
    slug: str,
    port: int,
    database_url: str,
    peers: Iterable[Mapping[str, Any]] = (),
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    city = CITIES[slug]
    document: dict[str, Any] = {
        "node": {
            "slug": slug,
            "city": city["city"],
            "base_url": f"http://127.0.0.1:{port}",
            "default_language": city["lang"],
            "minimum_age": city["age"],
            "database_url": database_url,
        },
        "listen": {"host": "127.0.0.1", "port": port},
        "branding": {"portal_name": city["portal"]},
        "matching": {"k_anonymity": 1},
        "peers": list(peers),
    }
    for section, values in (overrides or {}).items():
        document[section] = {**document.get(section, {}), **values}
    return document


@dataclass
class RunningNode:
    config: Config
    keys: NodeKeys
    sock: socket.socket
    app: web.Application | None = None
    runner: web.AppRunner | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.config.node.base_url

    @property
    def database(self) -> Database:
        """The running node's database."""
        assert self.app is not None, "the node is not started"
        return self.app[appkeys.DATABASE]

    async def start(
        self, extensions: list[Extension] | None = None, *, run_workers: bool = True
    ) -> None:
        self.app = create_app(
            self.config, keys=self.keys, extensions=extensions, run_workers=run_workers
        )
        self.runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=2)
        await self.runner.setup()
        # A fresh socket object each start, bound to the same port.
        if self.sock.fileno() == -1:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind(("127.0.0.1", self.config.listen.port))
        await web.SockSite(self.runner, self.sock).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
            self.app = None
        self.sock.close()


async def prepare_node(
    directory: Path,
    slug: str,
    database_url: str,
    *,
    sock: socket.socket | None = None,
    peers: Iterable[Mapping[str, Any]] = (),
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> RunningNode:
    """Config, keys and migrated database for a node that is not started yet.

    Keys and a fresh SQLite database are copies of session-wide templates (see
    ``support.templates``): the same files ``zwilling init`` and the migrations make.
    """
    sock = sock or bound_socket()
    port = sock.getsockname()[1]
    document = node_document(slug, port, database_url, peers, overrides)
    config = config_from_mapping(document, data_dir=directory / slug, environ={})
    keys = install_keys(config)
    await migrated_database(config.database_url)
    return RunningNode(config=config, keys=keys, sock=sock)


def peer_entry(node: RunningNode) -> dict[str, Any]:
    """How another node's config names ``node``: actor URL and pinned fingerprints."""
    return {
        "actor_url": node.config.actor_url,
        "fingerprints": [
            fingerprint(node.keys.rsa.public_key()),
            fingerprint(node.keys.ed25519.public_key()),
        ],
    }


@asynccontextmanager
async def node_pair(
    directory: Path,
    *,
    start: bool = True,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    extensions: list[Extension] | None = None,
    configure: Callable[[RunningNode, RunningNode], None] | None = None,
    run_workers: bool = True,
) -> AsyncIterator[tuple[RunningNode, RunningNode]]:
    """Oldenburg and Cholet, each pinning the other's keys, both started by default."""
    async with AsyncExitStack() as stack:
        urls = [
            await stack.enter_async_context(scratch_database(directory, name))
            for name in ("oldenburg", "cholet")
        ]
        socks = [bound_socket(), bound_socket()]
        # Keys first (without peers) so that each config can pin the other's.
        drafts = [
            await prepare_node(directory, slug, url, sock=sock, overrides=overrides)
            for slug, url, sock in zip(("oldenburg", "cholet"), urls, socks, strict=True)
        ]
        nodes = []
        for draft, other in ((drafts[0], drafts[1]), (drafts[1], drafts[0])):
            document = node_document(
                draft.config.node.slug,
                draft.config.listen.port,
                draft.config.node.database_url,
                [peer_entry(other)],
                overrides,
            )
            config = config_from_mapping(document, data_dir=draft.config.data_dir, environ={})
            nodes.append(RunningNode(config=config, keys=draft.keys, sock=draft.sock))
        oldenburg, cholet = nodes
        if configure:
            configure(oldenburg, cholet)
        if start:
            await oldenburg.start(extensions, run_workers=run_workers)
            await cholet.start(extensions, run_workers=run_workers)
        try:
            yield oldenburg, cholet
        finally:
            await oldenburg.stop()
            await cholet.stop()


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def write_config(node: RunningNode, path: Path) -> Path:
    """The node's config as a TOML file, for the CLI in a subprocess (same data dir)."""
    config = node.config
    document = config.model_dump(exclude={"data_dir", "source"}, exclude_none=True)
    lines: list[str] = []
    for section, values in document.items():
        if section == "peers":
            continue
        nested = {k: v for k, v in values.items() if isinstance(v, dict)}
        lines.append(f"[{section}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in values.items() if k not in nested]
        for name, table in nested.items():
            lines.append(f"[{section}.{name}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    for peer in document.get("peers", []):
        lines.append("[[peers]]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in peer.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def wake(app: web.Application) -> None:
    """Nudge the delivery worker in a polling wait (a committed write wakes it anyway)."""
    event = app.get(DELIVERY_WAKE)
    if event is not None:
        event.set()


@asynccontextmanager
async def node_trio(
    directory: Path,
    *,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    extensions: list[Extension] | None = None,
) -> AsyncIterator[tuple[RunningNode, RunningNode, RunningNode]]:
    """Oldenburg, Cholet and Taastrup, each pinning the other two's keys, all started."""
    slugs = ("oldenburg", "cholet", "taastrup")
    async with AsyncExitStack() as stack:
        urls = [
            await stack.enter_async_context(scratch_database(directory, name)) for name in slugs
        ]
        drafts = [
            await prepare_node(directory, slug, url, sock=bound_socket(), overrides=overrides)
            for slug, url in zip(slugs, urls, strict=True)
        ]
        nodes = []
        for draft in drafts:
            document = node_document(
                draft.config.node.slug,
                draft.config.listen.port,
                draft.config.node.database_url,
                [peer_entry(other) for other in drafts if other is not draft],
                overrides,
            )
            config = config_from_mapping(document, data_dir=draft.config.data_dir, environ={})
            nodes.append(RunningNode(config=config, keys=draft.keys, sock=draft.sock))
        try:
            for node in nodes:
                await node.start(extensions)
            yield nodes[0], nodes[1], nodes[2]
        finally:
            for node in nodes:
                await node.stop()
