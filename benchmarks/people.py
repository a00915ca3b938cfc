"""How fast "Find people" answers with a whole partner city: the page, over HTTP.

Starts a real node in this process (SQLite by default, or --database-url) holding one
resident with a published profile and the synthetic vectors of a partner city
(``benchmarks.synthetic``, Cholet, 54,000 by default) as if received from it, logs in
over HTTP and asks for ``/people`` with a rotating set of filters (none, one interest, a
whole category, several interests, spoken and learnt language, age group, line of work,
all at once, a page far down, page numbers past the end). The first request builds the
matching side and the filter index (a once-per-computation cost, reported apart); the
rest are timed one after the other. Prints the load average, every figure, and one JSON
line last.

    .venv/bin/python -m benchmarks.people [--cholet 54000] [--requests 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._node import free_port, node_config, remote_profile_rows  # noqa: E402
from benchmarks.synthetic import generate_population  # noqa: E402
from node.matches.compute import peer_ids as compute_peer_ids  # noqa: E402

PEER = "https://cholet.example/actor"
EMAIL = "bench@oldenburg.example"
PASSWORD = "benchmark-password-42"  # noqa: S105 (an account in a throwaway database)
QUERIES = (
    "",
    "interest=music_making.choir",
    "interest=sport",
    "interest=games.chess&interest=outdoors.hiking&interest=food.baking",
    "speaks=en",
    "learns=de",
    "age=40-49",
    "occupation=2",
    "interest=sport&speaks=en&age=30-39&occupation=2",
    "page=40",
    "page=99999",
)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def populate(app: web.Application, partner: int, seed: int) -> float:
    """The peer, the resident with a published profile, the partner city's vectors."""
    from node.accounts import passwords
    from node.models import RemoteProfile, Resident, utcnow
    from node.peers import registry
    from node.profiles import profiles
    from node.runtime import appkeys
    from node.vectors.appkeys import PUBLISHER

    db = app[appkeys.DATABASE]
    async with db.write() as session:
        peer = await registry.upsert(session, PEER, source="admin")
        peer.name = "Cholet"
        await session.flush()
        peer_id = peer.id
        resident = Resident(
            email=EMAIL,
            password_hash=await passwords.hash_password(PASSWORD),
            display_name="Bench",
            kind="person",
            language="de",
            email_verified_at=utcnow(),
        )
        session.add(resident)
        await session.flush()
        data = profiles.ProfileData(
            interests=(
                "music_making.choir",
                "sport.cycling",
                "food.baking",
                "outdoors.hiking",
                "literature.novels",
                "games.chess",
            ),
            occupation="23",
            languages={"de": "native", "fr": "B1", "en": "B2"},
            learning=("fr",),
            age_band="40-49",
        )
        await profiles.save_profile(session, resident, data, app[PUBLISHER])
    started = time.perf_counter()
    people = generate_population("cholet", partner, seed)
    now = utcnow()
    rows = remote_profile_rows(peer_id, people, now)
    async with db.write() as session:
        for start in range(0, len(rows), 5000):
            await session.execute(insert(RemoteProfile), rows[start : start + 5000])
    return time.perf_counter() - started


async def prepared(app: web.Application) -> float:
    """What the matching worker does seconds after the partner's vectors arrived: prepare
    the partner's side (the list shows the vectors of the last computation)."""
    from node.matches.appkeys import MATCHING
    from node.matches.compute import prepare_index
    from node.runtime import appkeys

    started = time.perf_counter()
    async with app[appkeys.DATABASE].read() as session:
        peers = await compute_peer_ids(session)
    for peer_id in peers:
        await prepare_index(app[appkeys.DATABASE], app[MATCHING], peer_id)
    return time.perf_counter() - started


async def logged_in(client: aiohttp.ClientSession, base: str) -> None:
    async with client.get(f"{base}/login") as page:
        token = CSRF.search(await page.text())
    assert token, "the login page has no CSRF token"
    form = {"email": EMAIL, "password": PASSWORD, "csrf_token": token.group(1)}
    async with client.post(f"{base}/login", data=form, allow_redirects=False) as answer:
        assert answer.status == 303, answer.status


async def timed(client: aiohttp.ClientSession, url: str) -> tuple[float, int, int]:
    started = time.perf_counter()
    async with client.get(url) as answer:
        body = await answer.text()
    seconds = time.perf_counter() - started
    return seconds, answer.status, body.count('name="actor"')


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from node.app import create_app
    from node.runtime import migrate
    from node.runtime.db import Database
    from node.runtime.keys import ensure_keys
    from node.runtime.logs import configure_logging

    configure_logging("ERROR")
    figures: dict[str, Any] = {
        "load_average_at_start": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "partner_profiles": args.cholet,
        "requests": args.requests,
        "seed": args.seed,
    }
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        url = args.database_url or f"sqlite+aiosqlite:///{directory / 'node.db'}"
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
        try:
            figures["insert_partner_s"] = round(await populate(app, args.cholet, args.seed), 2)
            figures["prepare_side_s"] = round(await prepared(app), 2)
            base = f"http://127.0.0.1:{port}"
            jar = aiohttp.CookieJar(unsafe=True)  # cookies of an IP address (loopback)
            async with aiohttp.ClientSession(cookie_jar=jar) as client:
                await logged_in(client, base)
                first, status, shown = await timed(client, f"{base}/people")
                assert status == 200 and shown, (status, shown)
                figures["first_request_s"] = round(first, 3)
                times: list[float] = []
                per_query: dict[str, list[float]] = {query: [] for query in QUERIES}
                for i in range(args.requests):
                    query = QUERIES[i % len(QUERIES)]
                    seconds, status, _shown = await timed(client, f"{base}/people?{query}")
                    assert status == 200, (query, status)
                    times.append(seconds)
                    per_query[query].append(seconds)
        finally:
            await runner.cleanup()
    figures["p50_ms"] = round(1000 * statistics.median(times), 1)
    figures["p95_ms"] = round(1000 * percentile(times, 0.95), 1)
    figures["max_ms"] = round(1000 * max(times), 1)
    figures["slowest_query"] = max(per_query, key=lambda q: statistics.median(per_query[q] or [0]))
    figures["slowest_query_p50_ms"] = round(
        1000 * statistics.median(per_query[figures["slowest_query"]]), 1
    )
    figures["load_average_at_end"] = round(os.getloadavg()[0], 2)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cholet", type=int, default=54_000, help="partner city's profiles")
    parser.add_argument("--requests", type=int, default=330, help="timed requests")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", help="an empty database (default: temporary SQLite)")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f}", flush=True)
    figures = asyncio.run(run(args))
    for name, value in figures.items():
        print(f"{name:>24}: {value}")
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
