"""A node at city scale: the full recompute end to end, and the suggestions page meanwhile.

Starts a real node in this process (SQLite by default, or ``--database-url``) and fills
its database in bulk, not through the forms: the residents of the local city (Oldenburg,
176,000 by default) with profiles, published vectors and pseudonyms towards the partner
city, and the vectors of the partner city (Cholet, 54,000) as if received from it
(``benchmarks.synthetic``). Then it times full recomputes, exactly as the matching worker
runs them (load both sides, match, write suggestions and twins, drop the previous set),
while a separate process keeps ``--readers`` logged-in residents asking for their
suggestions page (``/twin``) one request after the other, and reports the page's
latency during each recompute next to its latency on an idle node. The first recompute
writes into empty tables, the second replaces a complete set.

Prints the load average, every figure, and one JSON line last.

    .venv/bin/python -m benchmarks.city [--oldenburg 176000] [--cholet 54000]
        [--database-url postgresql+asyncpg://…] [--readers 20]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._node import (  # noqa: E402
    free_port,
    node_config,
    profile_row,
    remote_profile_rows,
)
from benchmarks.synthetic import generate_population  # noqa: E402

PEER = "https://cholet.example/actor"
PASSWORD = "benchmark-password-42"  # noqa: S105 (accounts in a throwaway database)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CHUNK = 5_000


def email(index: int) -> str:
    return f"resident{index}@oldenburg.example"


async def insert_rows(session: Any, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    from sqlalchemy import insert

    for start in range(0, len(rows), CHUNK):
        await session.execute(insert(table), rows[start : start + CHUNK])


async def seed(app: web.Application, oldenburg: int, cholet: int, seed_value: int) -> float:
    """The peer, the local residents with everything matching reads, the partner's vectors.

    Written with multi-row inserts straight into the tables (the profile form would
    publish each resident on its own); the rows are those the forms and the vector
    publication would have written, with k-anonymity 1 (nothing generalised)."""
    from node import pseudonyms
    from node.accounts import passwords
    from node.models import Profile, Pseudonym, PublishedVector, RemoteProfile, Resident, utcnow
    from node.peers import registry
    from node.runtime import appkeys
    from node.vectors.appkeys import PUBLISHER
    from node.vectors.stored import stored_form

    db = app[appkeys.DATABASE]
    secret = app[PUBLISHER].secret
    locals_ = generate_population("oldenburg", oldenburg, seed_value)
    remotes = generate_population("cholet", cholet, seed_value)
    password_hash = await passwords.hash_password(PASSWORD)
    started = time.perf_counter()
    now = utcnow()
    async with db.write() as session:
        peer = await registry.upsert(session, PEER, source="admin")
        peer.name = "Cholet"
        await session.flush()
        peer_id = peer.id
    for begin in range(0, oldenburg, 50_000):
        batch = range(begin, min(oldenburg, begin + 50_000))
        residents, profiles, vectors, names = [], [], [], []
        for index in batch:
            person = locals_[index]
            resident_id = index + 1
            residents.append(
                {
                    "id": resident_id,
                    "email": email(index),
                    "password_hash": password_hash,
                    "display_name": f"Resident {index}",
                    "kind": person.kind,
                    "language": "de",
                    "email_verified_at": now,
                    "adult_declared_at": now,
                }
            )
            profiles.append(profile_row(resident_id, person))
            vector = stored_form(person)
            vectors.append(
                {
                    "resident_id": resident_id,
                    "vector": vector,
                    "digest": digest(vector),
                    "updated": now,
                }
            )
            names.append(
                {
                    "pseudonym": pseudonyms.derive(secret, resident_id, 0, PEER),
                    "resident_id": resident_id,
                    "peer_id": peer_id,
                    "epoch": 0,
                }
            )
        async with db.write() as session:
            await insert_rows(session, Resident, residents)
            await insert_rows(session, Profile, profiles)
            await insert_rows(session, PublishedVector, vectors)
            await insert_rows(session, Pseudonym, names)
    remote_rows = remote_profile_rows(peer_id, remotes, now)
    async with db.write() as session:
        await insert_rows(session, RemoteProfile, remote_rows)
        if db.engine.dialect.name == "postgresql":
            await session.execute(
                _text("SELECT setval('residents_id_seq', (SELECT max(id) FROM residents))")
            )
    return time.perf_counter() - started


def digest(vector: dict[str, Any]) -> str:
    """The fingerprint the publication stores beside a vector (canonical JSON, SHA-256)."""
    canonical = json.dumps(vector, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _text(statement: str) -> Any:
    from sqlalchemy import text

    return text(statement)


# The readers: a process of their own, so that the load generator does not share the
# node's event loop (or its interpreter lock).


def readers_main(base: str, emails: list[str], commands: Any, answers: Any) -> None:
    """Log every reader in, then ask for /twin over and over between "go" and "stop"."""
    asyncio.run(_readers(base, emails, commands, answers))


async def _readers(base: str, emails: list[str], commands: Any, answers: Any) -> None:
    jars = [aiohttp.CookieJar(unsafe=True) for _ in emails]
    timeout = aiohttp.ClientTimeout(total=30)
    clients = [aiohttp.ClientSession(cookie_jar=jar, timeout=timeout) for jar in jars]
    try:
        for client, address in zip(clients, emails, strict=True):
            await _log_in(client, base, address)
        answers.put("ready")
        await asyncio.to_thread(commands.get)  # "go"
        stop = asyncio.Event()
        samples: list[tuple[float, float, int]] = []
        tasks = [asyncio.create_task(_read(client, base, stop, samples)) for client in clients]
        await asyncio.to_thread(commands.get)  # "stop"
        stop.set()
        await asyncio.gather(*tasks)
        answers.put(samples)
    finally:
        for client in clients:
            await client.close()


async def _log_in(client: aiohttp.ClientSession, base: str, address: str) -> None:
    async with client.get(f"{base}/login") as page:
        token = CSRF.search(await page.text())
    assert token, "the login page has no CSRF token"
    form = {"email": address, "password": PASSWORD, "csrf_token": token.group(1)}
    async with client.post(f"{base}/login", data=form, allow_redirects=False) as answer:
        assert answer.status == 303, answer.status


async def _read(
    client: aiohttp.ClientSession,
    base: str,
    stop: asyncio.Event,
    samples: list[tuple[float, float, int]],
) -> None:
    while not stop.is_set():
        started = time.monotonic()
        try:
            async with client.get(f"{base}/twin", allow_redirects=False) as answer:
                await answer.read()
                status = answer.status
        except (aiohttp.ClientError, TimeoutError):
            status = 0
        samples.append((started, time.monotonic() - started, status))


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def page_figures(
    samples: Sequence[tuple[float, float, int]], start: float, end: float, prefix: str
) -> dict[str, Any]:
    """Latency of the requests that began in [start, end)."""
    inside = [(seconds, status) for began, seconds, status in samples if start <= began < end]
    times = [seconds for seconds, status in inside if status == 200]
    figures: dict[str, Any] = {
        f"{prefix}_requests": len(inside),
        f"{prefix}_errors": sum(1 for _, status in inside if status != 200),
        f"{prefix}_per_s": round(len(inside) / max(end - start, 1e-9), 1),
    }
    if times:
        figures[f"{prefix}_p50_ms"] = round(1000 * statistics.median(times), 1)
        figures[f"{prefix}_p95_ms"] = round(1000 * percentile(times, 0.95), 1)
        figures[f"{prefix}_p99_ms"] = round(1000 * percentile(times, 0.99), 1)
        figures[f"{prefix}_max_ms"] = round(1000 * max(times), 1)
    return figures


def recompute_figures(results: Iterable[Any], prefix: str) -> dict[str, Any]:
    [result] = list(results)
    figures = {
        f"{prefix}_s": result.seconds,
        f"{prefix}_load_s": result.load_s,
        f"{prefix}_match_s": result.match_s,
        f"{prefix}_write_s": result.write_s,
        f"{prefix}_cleanup_s": result.cleanup_s,
        f"{prefix}_shown_s": round(result.load_s + result.match_s + result.write_s, 3),
        f"{prefix}_offload": result.offload,
        f"{prefix}_suggestions": result.suggestions,
        f"{prefix}_twins": result.twins,
    }
    figures.update({f"{prefix}_{name}": value for name, value in result.parts.items()})
    return figures


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from node.app import create_app
    from node.matches.appkeys import MATCHING
    from node.matches.compute import recompute_all
    from node.runtime import appkeys, migrate
    from node.runtime.db import Database
    from node.runtime.heap import freeze_loaded_objects
    from node.runtime.keys import ensure_keys
    from node.runtime.logs import configure_logging

    configure_logging("ERROR")
    figures: dict[str, Any] = {
        "load_average_at_start": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "oldenburg": args.oldenburg,
        "cholet": args.cholet,
        "readers": args.readers,
        "seed": args.seed,
    }
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        url = args.database_url or f"sqlite+aiosqlite:///{directory / 'node.db'}"
        figures["database"] = "postgresql" if url.startswith("postgresql") else "sqlite"
        port = free_port()
        config = node_config(directory, port, url)
        ensure_keys(config)
        db = Database.open(config.database_url)
        try:
            await migrate.upgrade(db.engine)
        finally:
            await db.dispose()
        app = create_app(config, run_workers=False)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        freeze_loaded_objects()  # as 'zwilling run' does
        commands, answers = context.Queue(), context.Queue()
        readers = context.Process(
            target=readers_main,
            args=(
                f"http://127.0.0.1:{port}",
                [email(i) for i in range(min(args.readers, args.oldenburg))],
                commands,
                answers,
            ),
        )
        try:
            print("seeding…", flush=True)
            figures["seed_s"] = round(await seed(app, args.oldenburg, args.cholet, args.seed), 2)
            print(f"seeded in {figures['seed_s']} s", flush=True)
            state = app[MATCHING]
            if args.offload == "thread":
                state.process_from = sys.maxsize
            elif args.offload == "process":
                state.process_from = 0
            readers.start()
            assert await asyncio.to_thread(answers.get) == "ready"
            commands.put("go")
            marks = [time.monotonic()]
            await asyncio.sleep(args.idle_seconds)
            marks.append(time.monotonic())
            for prefix in ("recompute", "second_recompute"):
                print(f"{prefix}…", flush=True)
                load_before = os.getloadavg()[0]
                results = await recompute_all(app[appkeys.DATABASE], state)
                marks.append(time.monotonic())
                figures.update(recompute_figures(results, prefix))
                figures[f"{prefix}_load_average_before"] = round(load_before, 2)
                print(results, f"load average {os.getloadavg()[0]:.2f}", flush=True)
            commands.put("stop")
            samples = await asyncio.to_thread(answers.get)
            await asyncio.to_thread(readers.join)
        finally:
            if readers.is_alive():
                readers.terminate()
            await runner.cleanup()
    figures.update(page_figures(samples, marks[0], marks[1], "page_idle"))
    figures.update(page_figures(samples, marks[1], marks[2], "page_during_recompute"))
    figures.update(page_figures(samples, marks[2], marks[3], "page_during_second_recompute"))
    figures["requests"] = len(samples)
    figures["errors"] = sum(1 for _, _, status in samples if status != 200)
    figures["load_average_at_end"] = round(os.getloadavg()[0], 2)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--oldenburg", type=int, default=176_000, help="local residents")
    parser.add_argument("--cholet", type=int, default=54_000, help="partner city's profiles")
    parser.add_argument("--readers", type=int, default=20, help="concurrent page readers")
    parser.add_argument("--idle-seconds", type=float, default=5.0, help="pages before the runs")
    parser.add_argument(
        "--offload",
        choices=("auto", "thread", "process"),
        default="auto",
        help="where the matching runs (auto: a process for large populations)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", help="an empty database (default: temporary SQLite)")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f}", flush=True)
    figures = asyncio.run(run(args))
    for name, value in figures.items():
        print(f"{name:>40}: {value}")
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
