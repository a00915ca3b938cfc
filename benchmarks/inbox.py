"""Inbox throughput: verified activities per second, against a bare aiohttp handler.

Starts a real node in a subprocess (SQLite by default, or --database-url) whose
database pins one peer's keys, and drives signed POSTs at its inbox over loopback.
Two kinds of activity (``--activity``):

* ``noop`` (default): a ``Create`` for a no-op handler, so every request is
  verified, deduplicated, stored and "applied" — the cost of the inbox itself;
* ``profile``: what a partner city really sends, an ``Update`` of an
  ``InterestProfile`` (a synthetic resident, each request a new pseudonym) with its
  eddsa-jcs-2022 integrity proof, checked and applied by the node's own handler.

The requests are signed before the timed loop, so the client spends no time on
RSA. The same requests, with the same concurrency, then go to a minimal aiohttp
handler that reads the body and answers 202: that run is the ceiling of this load
generator and server on this machine, and shows the generator is not what limits
the node. The timed runs are sent by wrk (``benchmarks._wrk``, each request once, for
``--seconds``): a Python client needs about as much CPU per request as the bare
server, so it could not show that ceiling. ``--generator aiohttp`` sends them from
Python client processes instead (``--clients``; the warm-up always does). Every
figure is printed, and the last line is one JSON object holding all of them.

    .venv/bin/python benchmarks/inbox.py [--requests 6000] [--seconds 2]
        [--concurrency 32] [--activity noop|profile] [--repeats 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import _signed_load, _wrk  # noqa: E402
from benchmarks._node import free_port, scratch_postgres, write_config  # noqa: E402
from benchmarks._processes import (  # noqa: E402
    cpu_seconds,
    serve_bare,
    start,
    stop,
    wait_listening,
)
from federation.actors import ActorKey  # noqa: E402
from federation.keys import (  # noqa: E402
    fingerprint,
    generate_rsa_key,
    public_key_pem,
    published_key_id,
)
from federation.signatures import sign_request  # noqa: E402

BENCH_TYPE = "BenchNote"


# -- the servers (each runs in its own process) -------------------------------------------


def serve_node(config_file: str, data_dir: str, workers: bool = True) -> None:
    from node.app import create_app
    from node.federation.handlers import ActivityHandler, InboxContext, register_handler
    from node.runtime.config import load_config
    from node.runtime.heap import freeze_loaded_objects
    from node.runtime.logs import configure_logging

    class NoOp(ActivityHandler):
        async def apply(self, ctx: InboxContext) -> None:
            return None

    def bench(app: web.Application) -> None:
        register_handler(app, "Create", BENCH_TYPE, NoOp())

    configure_logging("WARNING")
    config = load_config(config_file, data_dir=data_dir)
    app = create_app(config, extensions=[bench], run_workers=workers)
    freeze_loaded_objects()  # as 'zwilling run' does
    web.run_app(app, host="127.0.0.1", port=config.listen.port, print=None, access_log=None)


# -- setting the node up -------------------------------------------------------------------


async def prepare(
    config_file: Path, data_dir: Path, peer_actor: str, peer_key: Any, peer_ed25519: Any
) -> None:
    """Keys, schema, and the benchmark peer with its keys pinned (as 'peer add' does):
    RSA for its HTTP signatures, Ed25519 for its integrity proofs."""
    from node.models import utcnow
    from node.peers import registry as repo
    from node.runtime import migrate
    from node.runtime.config import load_config
    from node.runtime.db import Database
    from node.runtime.keys import ensure_keys

    config = load_config(config_file, data_dir=data_dir)
    ensure_keys(config)
    db = Database.open(config.database_url)
    try:
        await migrate.upgrade(db.engine)
        async with db.write() as session:
            peer = await repo.upsert(session, peer_actor, source="admin")
            origin = peer_actor.rsplit("/", 1)[0]
            peer.inbox_url = f"{origin}/inbox"
            peer.actor_fetched_at = utcnow()
            public = peer_key.public_key()
            key = ActorKey(
                f"{peer_actor}#main-key", "rsa", public, public_key_pem(public), fingerprint(public)
            )
            proofs = peer_ed25519.public_key()
            proof_key = ActorKey(
                published_key_id(peer_actor, proofs),
                "ed25519",
                proofs,
                public_key_pem(proofs),
                fingerprint(proofs),
            )
            await repo.pin(session, peer, [key, proof_key], pinned_by="admin", now=utcnow())
    finally:
        await db.dispose()


async def stored(config_file: Path, data_dir: Path, *, profiles: bool = False) -> int:
    """Inbox rows stored, or (``profiles``) peer profiles held."""
    from sqlalchemy import func, select

    from node.models import InboxActivity, RemoteProfile
    from node.runtime.config import load_config
    from node.runtime.db import Database

    config = load_config(config_file, data_dir=data_dir)
    db = Database.open(config.database_url)
    try:
        async with db.read() as session:
            table = RemoteProfile if profiles else InboxActivity
            return int(await session.scalar(select(func.count()).select_from(table)) or 0)
    finally:
        await db.dispose()


# -- load ---------------------------------------------------------------------------------


def documents(
    kind: str, node_actor: str, peer_actor: str, peer_ed25519: Any, count: int, start: int
) -> list[dict[str, Any]]:
    """``count`` activities of ``kind`` from the peer, numbered from ``start``."""
    origin = peer_actor.rsplit("/", 1)[0]
    if kind == "noop":
        return [
            {
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": f"{origin}/activities/{uuid.uuid4()}",
                "type": "Create",
                "actor": peer_actor,
                "to": [node_actor],
                "object": {"type": BENCH_TYPE, "n": start + n, "content": "x" * 520},
            }
            for n in range(count)
        ]
    from benchmarks.synthetic import generate_population
    from matching.occupations import load_occupations
    from matching.taxonomy import load_taxonomy
    from matching.wire import profile_to_json
    from node.vectors.activities import Publisher, update_activity

    publisher = Publisher(
        base_url=origin,
        secret=b"benchmark" * 4,
        signing_key=peer_ed25519,
        k=5,
        taxonomy=load_taxonomy(),
        occupations=load_occupations(),
    )
    now = datetime.now(UTC)
    residents = generate_population("cholet", start + count, seed=7)[start:]
    return [
        dict(
            update_activity(
                publisher,
                node_actor,
                f"{start + n:064x}",
                profile_to_json(resident),
                updated=now,
                sequence=1,
                now=now,
            )
        )
        for n, resident in enumerate(residents)
    ]


def presign(
    inbox: str, peer_actor: str, peer_key: Any, activities: list[dict[str, Any]]
) -> list[tuple[dict[str, str], bytes]]:
    requests = []
    for activity in activities:
        body = json.dumps(activity).encode()
        headers = sign_request(
            "POST",
            inbox,
            {"Content-Type": "application/activity+json"},
            body,
            key_id=f"{peer_actor}#main-key",
            private_key=peer_key,
        )
        requests.append((headers, body))
    return requests


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median throughput (its own latencies), and every throughput."""
    ordered = sorted(runs, key=lambda run: run["per_second"])
    return {**ordered[len(ordered) // 2], "all_per_second": [r["per_second"] for r in runs]}


Requests = list[tuple[dict[str, str], bytes]]


def timed_runs(
    process: subprocess.Popen[bytes],
    url: str,
    rounds: list[Requests],
    args: argparse.Namespace,
    *,
    bare: bool = False,
) -> dict[str, Any]:
    """The median of the timed rounds, with the server's CPU time per request. With wrk
    each round lasts ``--seconds``; the bare server may be sent a round's requests again."""
    before = cpu_seconds(process.pid)
    if args.generator == "wrk":
        runs = [_wrk.drive(url, r, args.seconds, args.concurrency, may_cycle=bare) for r in rounds]
    else:
        runs = [_signed_load.drive(url, r, args.concurrency, args.clients) for r in rounds]
    used = cpu_seconds(process.pid) - before
    served = sum(run["requests"] for run in runs)
    return {
        **median_run(runs),
        "server_cpu_us_per_request": round(used / served * 1e6, 1),
        "answered_in_all": served,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url", help="default: SQLite in a temporary directory")
    parser.add_argument("--activity", choices=("noop", "profile"), default="noop")
    parser.add_argument(
        "--generator",
        choices=("wrk", "aiohttp"),
        default="wrk",
        help="wrk (Debian's package) for the timed runs, or aiohttp client processes",
    )
    parser.add_argument(
        "--seconds", type=int, default=2, help="each timed run's length with wrk (whole seconds)"
    )
    parser.add_argument(
        "--clients", type=int, default=1, help="aiohttp client processes (warm-up, or all)"
    )
    parser.add_argument("--repeats", type=int, default=1, help="timed runs; the median is kept")
    parser.add_argument(
        "--without-workers",
        action="store_true",
        help="the node without its background workers (matching, deliveries, retries), "
        "to tell the inbox's own cost from the recomputes its updates ask for",
    )
    parser.add_argument(
        "--serve-node", nargs=3, metavar=("CONFIG", "DATA_DIR", "WORKERS"), help=argparse.SUPPRESS
    )
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generator == "wrk" and not _wrk.available():
        parser.error("wrk is not installed (apt-get install wrk), or pass --generator aiohttp")
    if args.serve_node:
        config_file, data_dir, workers = args.serve_node
        serve_node(config_file, data_dir, workers == "workers")
        return
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return

    with tempfile.TemporaryDirectory(prefix="zwilling-bench-") as scratch:
        database_url = "sqlite+aiosqlite:///node.db"
        scratch_name = f"zw_bench_{uuid.uuid4().hex[:12]}"
        if args.database_url:
            database_url = asyncio.run(scratch_postgres(args.database_url, scratch_name, "CREATE"))
        try:
            figures = run(Path(scratch), database_url, args)
        finally:
            if args.database_url:
                asyncio.run(scratch_postgres(args.database_url, scratch_name, "DROP"))
    print(json.dumps(figures))


def run(directory: Path, database_url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Both servers, each warmed up then timed ``--repeats`` times; prints the table and
    returns every figure."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    node_port, bare_port = free_port(), free_port()
    config_file = write_config(directory, node_port, database_url)
    peer_actor = f"http://127.0.0.1:{free_port()}/actor"  # never contacted
    peer_key = generate_rsa_key(2048)
    peer_ed25519 = Ed25519PrivateKey.generate()
    asyncio.run(prepare(config_file, directory, peer_actor, peer_key, peer_ed25519))

    inbox = f"http://127.0.0.1:{node_port}/inbox"
    node_actor = f"http://127.0.0.1:{node_port}/actor"
    total = args.warmup + args.requests * args.repeats
    print(f"signing {total} {args.activity} requests…", flush=True)
    signed = presign(
        inbox,
        peer_actor,
        peer_key,
        documents(args.activity, node_actor, peer_actor, peer_ed25519, total, 0),
    )
    warmup, timed = signed[: args.warmup], signed[args.warmup :]
    rounds = [timed[n * args.requests : (n + 1) * args.requests] for n in range(args.repeats)]
    body_bytes = round(statistics.mean(len(body) for _, body in timed))
    clients = args.clients

    bare = start("benchmarks.inbox", "--serve-bare", str(bare_port))
    try:
        wait_listening(bare_port, bare)
        bare_url = f"http://127.0.0.1:{bare_port}/inbox"
        _signed_load.drive(bare_url, warmup, args.concurrency, clients)
        ceiling = timed_runs(bare, bare_url, rounds, args, bare=True)
    finally:
        stop(bare)

    workers = "none" if args.without_workers else "workers"
    node = start("benchmarks.inbox", "--serve-node", str(config_file), str(directory), workers)
    try:
        wait_listening(node_port, node)
        _signed_load.drive(inbox, warmup, args.concurrency, clients)
        verified = timed_runs(node, inbox, rounds, args)
    finally:
        stop(node)
    rows = asyncio.run(stored(config_file, directory))
    profiles = asyncio.run(stored(config_file, directory, profiles=True))

    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    ratio = round(verified["per_second"] / ceiling["per_second"], 3)
    load = round(os.getloadavg()[0], 2)
    generator = (
        f"wrk, {_wrk.THREADS} threads, {args.seconds} s per run"
        if args.generator == "wrk"
        else f"{clients} aiohttp client process(es), {args.requests} requests per run"
    )
    print(
        f"\n{args.activity} activities, body {body_bytes} bytes, concurrency {args.concurrency} "
        f"from {generator}, {args.repeats} timed run(s) after {args.warmup} warm-up, "
        f"{os.cpu_count()} cores, load average {load}"
    )
    print(f"{'':24}{'per second':>12}{'p50 ms':>10}{'p99 ms':>10}{'CPU µs/req':>12}  statuses")
    for name, figures in ((f"node inbox ({backend})", verified), ("bare aiohttp 202", ceiling)):
        print(
            f"{name:24}{figures['per_second']:>12}{figures['p50_ms']:>10}"
            f"{figures['p99_ms']:>10}{figures['server_cpu_us_per_request']:>12}"
            f"  {figures['statuses']}"
        )
    print(
        f"node / bare: {ratio}; inbox rows stored: {rows} "
        f"(answered: {args.warmup + verified['answered_in_all']}); "
        f"peer profiles held: {profiles}; generator ceiling {ceiling['per_second']}/s "
        f"(the bare run)"
    )
    return {
        "benchmark": "inbox",
        "database": backend,
        "activity": args.activity,
        "body_bytes": body_bytes,
        "concurrency": args.concurrency,
        "generator": args.generator,
        "seconds": args.seconds if args.generator == "wrk" else None,
        "clients": clients,
        "requests": args.requests,
        "repeats": args.repeats,
        "workers": not args.without_workers,
        "load_average": load,
        "node": verified,
        "bare": ceiling,
        "generator_ceiling_per_second": ceiling["per_second"],
        "ratio": ratio,
        "cpu_ratio": round(
            ceiling["server_cpu_us_per_request"] / verified["server_cpu_us_per_request"], 3
        ),
        "stored": rows,
        "profiles_held": profiles,
    }


if __name__ == "__main__":
    main()
