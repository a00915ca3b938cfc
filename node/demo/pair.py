"""Running the demonstration pair: both cities in one process, each a complete node
built by ``create_app(config)`` with its workers, on the ports of ``config/*.toml``.

Nothing here shortcuts the federation: the nodes publish, fetch and match through
their HTTP endpoints exactly as two nodes in two town halls would. The demo only
does what the two admins would do by hand (generate keys, pin each other's
fingerprints) and, since it can see both databases, tells which demo residents
ended up as twins.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from sqlalchemy import func, select

from node.app import create_app
from node.demo.configs import PAIR, write_pair_configs
from node.demo.forecast import DemoSide, summary
from node.demo.population import DemoResident, featured, population
from node.demo.seeding import seed
from node.matches.appkeys import MATCHING
from node.models import Peer, Pseudonym, PublishedVector, RemoteProfile, Resident, Twin
from node.pseudonyms import pseudonym_from_url
from node.runtime import appkeys, migrate
from node.runtime.config import Config, ConfigError
from node.runtime.db import Database
from node.runtime.files import private_directory
from node.runtime.keys import NodeKeys

MARKER = ".zwilling-demo"
MATCH_TIMEOUT_SECONDS = 240.0
SHUTDOWN_SECONDS = 5.0

Say = Callable[[str], None]


class DemoError(Exception):
    """Something the person starting the demo can fix; one line."""


@dataclass
class DemoCity:
    config: Config
    keys: NodeKeys
    residents: list[DemoResident]
    created: int
    runner: web.AppRunner | None = None

    @property
    def name(self) -> str:
        return self.config.node.city

    @property
    def app(self) -> web.Application:
        if self.runner is None:
            raise RuntimeError(f"{self.name} is not running")
        return self.runner.app


def clear(root: Path) -> None:
    """Remove a previous demo's data, and nothing that is not one."""
    if not root.exists():
        return
    if not (root / MARKER).exists() and any(root.iterdir()):
        raise DemoError(f"{root} holds data that is not the demo's; not removing it")
    shutil.rmtree(root)


def _make_root(root: Path, fresh: bool) -> None:
    if fresh:
        clear(root)
    private_directory(root)
    (root / MARKER).write_text("data of 'zwilling demo'; --fresh removes this directory\n")


async def prepare(
    root: Path,
    config_dir: Path,
    *,
    fresh: bool,
    sizes: dict[str, int] | None = None,
    ports: Sequence[int] | None = None,
) -> list[DemoCity]:
    """Keys, configs, migrated databases and the residents (only where none exist yet)."""
    _make_root(root, fresh)
    cities = []
    for config, keys in write_pair_configs(root, config_dir, ports):
        slug = config.node.slug
        if slug not in PAIR:
            raise ConfigError(f"{config.source}: node.slug: the demo needs {' and '.join(PAIR)}")
        db = Database.open(config.database_url)
        try:
            await migrate.upgrade(db.engine)
            residents = population(slug, (sizes or {}).get(slug))
            created = await seed(db, residents)
        finally:
            await db.dispose()
        cities.append(DemoCity(config, keys, residents, created))
    return cities


def listening_socket(city: DemoCity) -> socket.socket:
    """The city's port, bound and listening before either node starts: a node that
    contacts its partner while starting up then waits for it instead of failing."""
    host, port = city.config.listen.host, city.config.listen.port
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise DemoError(
            f"{city.name}: cannot listen on {host}:{port} ({exc.strerror}); "
            "is the demo already running?"
        ) from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def start(cities: list[DemoCity]) -> None:
    sockets: list[socket.socket] = []
    try:
        for city in cities:
            sockets.append(listening_socket(city))
    except DemoError:
        for sock in sockets:
            sock.close()
        raise
    try:
        for city, sock in zip(cities, sockets, strict=True):
            runner = web.AppRunner(
                create_app(city.config, keys=city.keys),
                access_log=None,
                shutdown_timeout=SHUTDOWN_SECONDS,
            )
            city.runner = runner
            await runner.setup()
            await web.SockSite(runner, sock).start()
    except BaseException:
        for sock in sockets:
            sock.close()  # a site that started owns its socket; closing twice is harmless
        raise


async def stop(cities: list[DemoCity]) -> None:
    for city in reversed(cities):
        if city.runner is not None:
            await city.runner.cleanup()
            city.runner = None


async def twin_names(city: DemoCity, partner: DemoCity, email: str) -> list[str]:
    """The display names of a resident's twins, looked up on the partner's database
    (only the demo, holding both, can do that: each node knows a pseudonym only), by
    score and then by pseudonym, the order the matching itself lists them in."""
    async with city.app[appkeys.DATABASE].read() as session:
        urls = (
            await session.scalars(
                select(RemoteProfile.actor_url)
                .join(Twin, Twin.remote_profile_id == RemoteProfile.id)
                .join(Resident, Resident.id == Twin.resident_id)
                .where(Resident.email == email, Twin.current())
                .order_by(Twin.score.desc(), RemoteProfile.actor_url)
            )
        ).all()
    values = [pseudonym_from_url(partner.config.node.base_url, url) for url in urls]
    async with partner.app[appkeys.DATABASE].read() as session:
        names = await session.execute(
            select(Pseudonym.pseudonym, Resident.display_name)
            .join(Resident, Resident.id == Pseudonym.resident_id)
            .where(Pseudonym.pseudonym.in_([v for v in values if v]))
        )
        by_pseudonym = dict(names.tuples().all())
    return [by_pseudonym[v] for v in values if v in by_pseudonym]


def _mayor(city: DemoCity) -> DemoResident:
    return next(r for r in city.residents if r.role == "mayor")


async def _settled(city: DemoCity, partner: DemoCity) -> bool:
    """Whether ``city`` holds every profile its partner published and has matched them
    since the last one arrived: before that, the twins shown could still change."""
    async with partner.app[appkeys.DATABASE].read() as session:
        published = await session.scalar(select(func.count()).select_from(PublishedVector))
    async with city.app[appkeys.DATABASE].read() as session:
        peer_id = await session.scalar(
            select(Peer.id).where(Peer.actor_url == partner.config.actor_url)
        )
        received, latest = (
            await session.execute(
                select(func.count(), func.max(RemoteProfile.received_at)).where(
                    RemoteProfile.peer_id == peer_id
                )
            )
        ).one()
    index = city.app[MATCHING].peers.get(peer_id) if peer_id is not None else None
    if not published or received != published or index is None or latest is None:
        return False
    return bool(index.computed_at >= latest)


async def wait_for_matching(cities: list[DemoCity], patience: float) -> bool:
    """Until both nodes hold all of the partner's profiles and have matched them, and
    each mayor's node shows the other mayor as twin."""
    first, second = cities
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        if await _settled(first, second) and await _settled(second, first):
            seen = [
                _mayor(second).display_name in await twin_names(first, second, _mayor(first).email),
                _mayor(first).display_name in await twin_names(second, first, _mayor(second).email),
            ]
            if all(seen):
                return True
        await asyncio.sleep(0.5)
    return False


async def featured_twins(cities: list[DemoCity]) -> dict[str, list[str]]:
    """Each featured resident's twins as the running nodes computed them, by e-mail."""
    first, second = cities
    twins: dict[str, list[str]] = {}
    for city, partner in ((first, second), (second, first)):
        for resident in featured(city.residents):
            twins[resident.email] = await twin_names(city, partner, resident.email)
    return twins


async def describe(cities: list[DemoCity], root: Path, matched: bool, say: Say) -> None:
    twins = await featured_twins(cities) if matched else None
    sides = [DemoSide(city.config, city.residents) for city in cities]
    for line in summary(sides, twins):
        say(line)
    say("")
    say(f"  Data, configs, keys and mail: {root}   Logs: {root / 'demo.log'}")
    say("  Ctrl-C stops both nodes; the next start reuses the data (--fresh: start over).")


@contextmanager
def _stop_signals() -> Iterator[asyncio.Event]:
    """An event set by SIGINT or SIGTERM, for as long as the demo runs."""
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopped.set)
    try:
        yield stopped
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


async def _first(stopped: asyncio.Event, work: Awaitable[bool]) -> bool | None:
    """``work``'s result, or None when a stop signal came first."""
    task = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(stopped.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    for pending in (task, waiter):
        pending.cancel()
    return task.result() if task.done() and not task.cancelled() else None


async def run_demo(
    root: Path,
    config_dir: Path,
    *,
    say: Say,
    fresh: bool = False,
    sizes: dict[str, int] | None = None,
    ports: Sequence[int] | None = None,
    match_timeout: float = MATCH_TIMEOUT_SECONDS,
) -> None:
    """Prepare, start both nodes, report, serve until SIGINT or SIGTERM, stop cleanly."""
    say(f"MeinZwilling / MonJumeau demo: Oldenburg and Cholet, data in {root}")
    cities = await prepare(root, config_dir, fresh=fresh, sizes=sizes, ports=ports)
    for city in cities:
        partner = _partner(cities, city)
        made = f"{city.created} residents created" if city.created else "residents kept"
        say(f"  {city.name}: {made}; pins {partner.name}'s key {partner.keys.rsa_fingerprint}")
    with _stop_signals() as stopped:
        try:
            await start(cities)
            say("  Both nodes are up; exchanging vectors and matching …")
            matched = await _first(stopped, wait_for_matching(cities, match_timeout))
            if matched is not None:
                await describe(cities, root, matched, say)
                await stopped.wait()
            say("Stopping both nodes …")
        finally:
            await stop(cities)
    say("Stopped.")


def _partner(cities: list[DemoCity], city: DemoCity) -> DemoCity:
    return next(other for other in cities if other is not city)
