"""Pages under load: logged-in residents clicking through a node that holds a whole city.

Seeds a node's database in bulk (``_page_population``, not through the forms):
``--local`` residents of Oldenburg with completed profiles (``benchmarks.synthetic``),
published as the node publishes them, pseudonyms towards the partner city,
``--partner`` vectors of Cholet as if received from it, and a full matching run (the
node's own ``recompute_all``), so that every resident has suggestions and twins.
``--clients`` of the residents get contacts (mutual ones, requests both ways), a
conversation of 40 messages, an unseen notice, and a login session opened by the
node's session service; their cookies go to the load generator.

The node then runs in a subprocess, and ``--processes`` load-generating processes
(``_load``: aiohttp clients, ``--clients`` in all, one resident each) open the landing page,
``/twin`` (the suggestions), ``/contacts`` and a conversation in turn, as fast as the
node answers, for ``--seconds``. Before that the same processes drive a trivial aiohttp
handler (a bare server in another process) for ``--ceiling-seconds``: its rate is what
the generator can do at all on this machine, so a node figure well below it measures
the node, not the generator. Every request has a ``--timeout``; a late answer counts
as a timeout, a status other than 200 as an error.

``--background`` runs the node with its workers (matching, delivery, mail …). The load
starts once the matching worker's start-up pass (a thorough republication and the
first full computation) is over (``worker_start_s``); during the load every match
with the partner is recomputed back to back (``recompute_all`` on the node's matching
state, what the worker runs), and ``--deliveries``
outgoing activities per second are queued to the partner, which the delivery worker
signs and sends to the bare server's inbox.

Prints the load average, the figures per page, and one JSON line last.

    .venv/bin/python -m benchmarks.pages [--local 176000] [--partner 54000]
        [--clients 50] [--seconds 60] [--background] [--database-url postgresql+asyncpg://…]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._load import load  # noqa: E402
from benchmarks._node import free_port, scratch_postgres, write_config  # noqa: E402
from benchmarks._page_population import seed  # noqa: E402
from benchmarks._processes import (  # noqa: E402
    cpu_seconds,
    serve_bare,
    start,
    stop,
    wait_listening,
)

PAGES = ("landing", "twin", "contacts", "conversation")


# -- the servers (each in its own process) -------------------------------------------------


def serve_node(config_file: str, data_dir: str, background: bool, deliveries: float) -> None:
    from node.app import create_app, installed_extensions
    from node.runtime import appkeys
    from node.runtime.config import load_config
    from node.runtime.heap import freeze_loaded_objects
    from node.runtime.logs import configure_logging

    def feed(app: web.Application) -> None:
        """Outgoing activities at a steady rate, as residents writing to the partner
        city would queue them (each in a write unit of its own)."""

        async def run(stop: asyncio.Event) -> None:
            from node.federation import outbox

            db = app[appkeys.DATABASE]
            base = app[appkeys.CONFIG].node.base_url
            pause = 1.0 / deliveries
            while not stop.is_set():
                activity = {
                    "@context": "https://www.w3.org/ns/activitystreams",
                    "id": f"{base}/activities/{uuid.uuid4()}",
                    "type": "Create",
                    "actor": f"{base}/actor",
                    "object": {"type": "Note", "content": "x" * 400},
                }
                async with db.write() as session:
                    await outbox.enqueue(session, peer=1, activity=activity)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)

        async def watch(stop: asyncio.Event) -> None:
            """Once the worker's start-up pass (republication, first matching run) is
            over, say so, then run full recomputes with the partner back to back, with
            the node's own state and code (``recompute_all``, as the worker calls it,
            without its pause between two runs); count the runs that ended."""
            from node.matches.appkeys import MATCHING
            from node.matches.compute import recompute_all

            state = app[MATCHING]
            counted = Path(data_dir, "matching-runs")
            while not state.peers and not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.5)
            runs = 0
            while not stop.is_set():
                counted.write_text(str(runs), encoding="utf-8")  # noqa: ASYNC240 (tiny)
                await recompute_all(app[appkeys.DATABASE], state)
                runs += 1

        if background and deliveries > 0:
            app[appkeys.BACKGROUND].add("benchmark-feed", run)
        if background:
            app[appkeys.BACKGROUND].add("benchmark-watch", watch)

    configure_logging("ERROR")
    config = load_config(config_file, data_dir=data_dir)
    app = create_app(config, extensions=[*installed_extensions(), feed], run_workers=background)
    freeze_loaded_objects()  # as 'zwilling run' does
    web.run_app(app, host="127.0.0.1", port=config.listen.port, print=None, access_log=None)


# -- measurement ---------------------------------------------------------------------------


async def outbox_states(database_url: str) -> dict[str, int]:
    """How the queued deliveries ended (``delivered`` is what the partner accepted)."""
    from sqlalchemy import func

    from node.models import OutboxActivity
    from node.runtime.db import Database

    db = Database.open(database_url)
    try:
        async with db.read() as session:
            rows = await session.execute(
                select(OutboxActivity.state, func.count()).group_by(OutboxActivity.state)
            )
            return {state: int(count) for state, count in rows}
    finally:
        await db.dispose()


def percentile(ordered: list[float], share: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summarise(merged: dict[str, Any], seconds: float, pages: tuple[str, ...]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for page in pages:
        values = sorted(merged["latencies"].get(page, []))
        figures[page] = {
            "requests": len(values),
            "per_second": round(len(values) / seconds, 1),
            "p50_ms": round(1000 * statistics.median(values), 1) if values else None,
            "p95_ms": round(1000 * percentile(values, 0.95), 1),
            "p99_ms": round(1000 * percentile(values, 0.99), 1),
            "max_ms": round(1000 * values[-1], 1) if values else None,
            "errors": merged["errors"].get(page, 0),
            "timeouts": merged["timeouts"].get(page, 0),
        }
    return figures


# -- the run -------------------------------------------------------------------------------


def run(directory: Path, database_url: str, args: argparse.Namespace) -> dict[str, Any]:
    node_port, bare_port = free_port(), free_port()
    k = 5 if args.local >= 1000 else 1
    config_file = write_config(directory, node_port, database_url, k)
    bare_origin = f"http://127.0.0.1:{bare_port}"
    print(f"seeding {args.local} residents and {args.partner} partner profiles…", flush=True)
    seeding, clients = asyncio.run(
        seed(
            config_file,
            directory,
            bare_origin,
            local_count=args.local,
            partner_count=args.partner,
            logged_in=args.clients,
            seed_value=args.seed,
        )
    )
    for name, value in seeding.items():
        print(f"  {name}: {value}", flush=True)
    from node.runtime.config import load_config
    from web.visits.sessions import cookie_name

    cookie = cookie_name(load_config(config_file, data_dir=directory))
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    figures: dict[str, Any] = {
        "benchmark": "pages",
        "database": backend,
        "local": args.local,
        "partner": args.partner,
        "clients": len(clients),
        "processes": args.processes,
        "seconds": args.seconds,
        "background": args.background,
        "cpus": os.cpu_count(),
        "seeding": seeding,
    }
    bare = start("benchmarks.pages", "--serve-bare", str(bare_port))
    node = None
    try:
        wait_listening(bare_port, bare, timeout=120)
        trivial = [{"pages": {"trivial": "/trivial"}} for _ in clients]
        ceiling_seconds = min(args.ceiling_seconds, args.seconds)
        figures["load_average_before_ceiling"] = round(os.getloadavg()[0], 2)
        merged = load(
            directory,
            "ceiling",
            bare_origin,
            trivial,
            seconds=ceiling_seconds,
            warmup=args.warmup,
            timeout=args.timeout,
            processes=args.processes,
            cookie=cookie,
        )
        figures["ceiling"] = summarise(merged, ceiling_seconds, ("trivial",))["trivial"]
        node = start(
            "benchmarks.pages",
            "--serve-node",
            str(config_file),
            str(directory),
            *(["--background"] if args.background else []),
            "--deliveries",
            str(args.deliveries),
        )
        wait_listening(node_port, node, timeout=120)
        if args.background:
            started = time.monotonic()
            while not (directory / "matching-runs").exists():
                if node.poll() is not None:
                    raise SystemExit(f"node exited with {node.returncode}")
                time.sleep(0.5)
            figures["worker_start_s"] = round(time.monotonic() - started, 1)
            time.sleep(args.settle)
        figures["load_average_at_start"] = round(os.getloadavg()[0], 2)
        cpu_before = cpu_seconds(node.pid)
        merged = load(
            directory,
            "pages",
            f"http://127.0.0.1:{node_port}",
            clients,
            seconds=args.seconds,
            warmup=args.warmup,
            timeout=args.timeout,
            processes=args.processes,
            cookie=cookie,
        )
        node_cpu = cpu_seconds(node.pid) - cpu_before
        figures["load_average_at_end"] = round(os.getloadavg()[0], 2)
    finally:
        if node is not None:
            stop(node)
        stop(bare)
    if args.background:
        runs = directory / "matching-runs"
        figures["matching_runs_ended"] = (
            int(runs.read_text(encoding="utf-8")) if runs.exists() else 0
        )
        figures["outbox"] = asyncio.run(outbox_states(database_url))
    pages = summarise(merged, args.seconds, PAGES)
    figures["pages"] = pages
    total = sum(page["requests"] for page in pages.values())
    figures["total_per_second"] = round(total / args.seconds, 1)
    figures["node_cpu_ms_per_request"] = round(1000 * node_cpu / max(1, total), 2)
    figures["unexpected_statuses"] = merged["statuses"]
    figures["generator_headroom"] = round(
        figures["ceiling"]["per_second"] / max(0.1, figures["total_per_second"]), 1
    )
    return figures


def report(figures: dict[str, Any]) -> None:
    print(
        f"\n{figures['database']}, {figures['local']} × {figures['partner']} profiles, "
        f"{figures['clients']} clients in {figures['processes']} processes, "
        f"{figures['seconds']} s, background work: {'yes' if figures['background'] else 'no'}; "
        f"load average {figures['load_average_at_start']} → {figures['load_average_at_end']} "
        f"on {figures['cpus']} cores"
    )
    print(f"{'page':14}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}  errors")
    rows = [*figures["pages"].items(), ("(trivial)", figures["ceiling"])]
    for name, page in rows:
        print(
            f"{name:14}{page['per_second']:>9}{page['p50_ms']!s:>9}{page['p95_ms']:>9}"
            f"{page['p99_ms']:>9}{page['max_ms']!s:>9}  {page['errors']} errors, "
            f"{page['timeouts']} timeouts"
        )
    print(
        f"all pages {figures['total_per_second']} req/s, node CPU "
        f"{figures['node_cpu_ms_per_request']} ms per request; the generator reaches "
        f"{figures['ceiling']['per_second']} req/s on a trivial handler "
        f"({figures['generator_headroom']}× the node's rate)"
    )
    if figures["background"]:
        print(
            f"background: {figures['matching_runs_ended']} full matching runs ended "
            f"before the node stopped (one more was under way); outbox rows by state "
            f"{figures['outbox']}"
        )
    if figures["unexpected_statuses"]:
        print(f"unexpected answers: {figures['unexpected_statuses']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--local", type=int, default=176_000, help="residents of the node")
    parser.add_argument("--partner", type=int, default=54_000, help="partner city's profiles")
    parser.add_argument("--clients", type=int, default=50, help="logged-in clients at once")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the timed load")
    parser.add_argument("--warmup", type=float, default=3.0, help="untimed seconds first")
    parser.add_argument("--ceiling-seconds", type=float, default=10.0)
    parser.add_argument("--processes", type=int, default=2, help="load-generating processes")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per request")
    parser.add_argument("--background", action="store_true", help="workers, matching, delivery")
    parser.add_argument("--deliveries", type=float, default=20.0, help="queued per second")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds before the load")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite file)")
    parser.add_argument("--serve-node", nargs=2, metavar=("CONFIG", "DIR"), help=argparse.SUPPRESS)
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_node:
        serve_node(*args.serve_node, args.background, args.deliveries)
        return
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return
    print(f"load average at start: {os.getloadavg()[0]:.2f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="zwilling-pages-") as scratch:
        directory = Path(scratch)
        database_url = f"sqlite+aiosqlite:///{directory / 'node.db'}"
        scratch_name = f"zw_pages_{uuid.uuid4().hex[:12]}"
        if args.database_url:
            database_url = asyncio.run(scratch_postgres(args.database_url, scratch_name, "CREATE"))
        try:
            figures = run(directory, database_url, args)
        finally:
            if args.database_url:
                asyncio.run(scratch_postgres(args.database_url, scratch_name, "DROP"))
    report(figures)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
