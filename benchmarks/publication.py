"""Benchmark of publishing vectors: the first publication of a whole population, one
edited profile (what a resident waits for when saving), and the thorough pass the
matching worker runs at start and every recompute interval, both in one write unit
(``publish_changes(thorough=True)``) and in short units with the generalisation in a
worker thread (``republish``), each with the longest the event loop was held meanwhile
(a probe sleeping 10 ms and recording its overshoot).

Run from the repository root::

    python -m benchmarks.publication                   # 20,000 residents, SQLite
    python -m benchmarks.publication --residents 176000 --database postgresql+asyncpg://…

Prints each figure and finally one line of JSON with all of them. The database given
with ``--database`` must be empty; by default a SQLite file in a temporary directory
is used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert

from matching.occupations import load_occupations
from matching.taxonomy import load_taxonomy
from node.models import Peer, Profile, Resident
from node.runtime import migrate
from node.runtime.db import Database
from node.vectors.activities import Publisher
from node.vectors.publication import publish_changes
from node.vectors.republication import republish

OCCUPATIONS = ("11", "21", "22", "23", "24", "25", "26", "33", "41", "51", "52", "71", "91")


def _profiles(n: int, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    codes = load_taxonomy().interests
    popularity = 1.0 / np.arange(1, len(codes) + 1)
    popularity /= popularity.sum()
    rows = []
    for i in range(n):
        count = int(rng.integers(3, 12))
        chosen = rng.choice(len(codes), size=count, replace=False, p=popularity)
        rows.append(
            {
                "resident_id": i + 1,
                "interests": sorted(codes[j] for j in chosen),
                "occupation": str(rng.choice(OCCUPATIONS)),
                "languages": {"de": "native", "en": str(rng.choice(["A2", "B1", "B2"]))},
                "learning": ["fr"] if rng.random() < 0.3 else [],
                "age_band": str(rng.choice(["20-29", "30-39", "40-49", "50-59", "60-69"])),
                "children_age_bands": [],
                "about": "",
                "completed": True,
            }
        )
    return rows


async def _timed(step: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """Seconds ``step`` took and the longest the loop was held meanwhile (ms)."""
    worst = 0.0
    running = True

    async def probe() -> None:
        nonlocal worst
        while running:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            worst = max(worst, time.perf_counter() - before - 0.01)

    task = asyncio.create_task(probe())
    started = time.perf_counter()
    await step()
    took = time.perf_counter() - started
    running = False
    await task
    return round(took, 2), round(worst * 1000, 1)


async def run(residents: int, database: str, edits: int) -> dict[str, float]:
    db = Database.open(database)
    await migrate.upgrade(db.engine)
    profiles = _profiles(residents, seed=1)
    async with db.write() as session:
        await session.execute(
            insert(Peer),
            [{"actor_url": "https://peer.example/actor", "origin": "https://peer.example"}],
        )
        await session.execute(
            insert(Resident),
            [
                {
                    "id": i + 1,
                    "email": f"{i}@example.org",
                    "password_hash": "!",
                    "display_name": "x",
                    "kind": "person",
                }
                for i in range(residents)
            ],
        )
        for start in range(0, residents, 5000):
            await session.execute(insert(Profile), profiles[start : start + 5000])
    publisher = Publisher(
        base_url="https://node.example",
        secret=b"benchmark-secret-benchmark-secret",
        signing_key=Ed25519PrivateKey.generate(),
        k=5,
        taxonomy=load_taxonomy(),
        occupations=load_occupations(),
    )
    figures: dict[str, float] = {"residents": residents}
    started = time.perf_counter()
    async with db.write() as session:
        await publish_changes(session, publisher, thorough=True)
    figures["first_publication_s"] = round(time.perf_counter() - started, 2)

    rng = np.random.default_rng(2)
    codes = load_taxonomy().interests
    timings = []
    for _ in range(edits):
        resident_id = int(rng.integers(1, residents + 1))
        started = time.perf_counter()
        async with db.write() as session:
            profile = await session.get(Profile, resident_id)
            assert profile is not None
            profile.interests = sorted(str(c) for c in rng.choice(codes, 5, replace=False))
            await session.flush()
            await publish_changes(session, publisher, changed=[resident_id])
        timings.append(time.perf_counter() - started)
    figures["edit_median_ms"] = round(statistics.median(timings) * 1000, 1)
    figures["edit_max_ms"] = round(max(timings) * 1000, 1)

    async def one_unit() -> None:
        async with db.write() as session:
            await publish_changes(session, publisher, thorough=True)

    async def chunked() -> None:
        await republish(db, publisher)

    figures["thorough_one_unit_s"], figures["thorough_one_unit_loop_max_ms"] = await _timed(
        one_unit
    )
    figures["thorough_pass_s"], figures["thorough_pass_loop_max_ms"] = await _timed(chunked)
    figures["load_average_1m"] = round(os.getloadavg()[0], 2)
    await db.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=20_000)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--database", help="an empty database URL (default: temporary SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        database = args.database or f"sqlite+aiosqlite:///{Path(scratch) / 'bench.db'}"
        figures = asyncio.run(run(args.residents, database, args.edits))
    for name, value in figures.items():
        print(f"{name:>22}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
