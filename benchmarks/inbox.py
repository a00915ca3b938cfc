"""Inbox throughput: verified activities per second, against a bare aiohttp handler.

Starts a real node in a subprocess (SQLite by default, or --database-url) whose
database pins one peer key, registers a no-op handler for the benchmark activity
(so every request is verified, deduplicated, stored and "applied"), and drives
signed POSTs at its inbox over loopback. The requests are signed before the timed
loop, so the client spends no time on RSA. The same requests, with the same
concurrency, then go to a minimal aiohttp handler that reads the body and answers
202 (the ceiling of this client and server on this machine). Every figure is
printed, and the last line is one JSON object holding all of them.

    .venv/bin/python benchmarks/inbox.py [--requests 6000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from federation.actors import ActorKey  # noqa: E402
from federation.keys import fingerprint, generate_rsa_key, public_key_pem  # noqa: E402
from federation.signatures import sign_request  # noqa: E402

BENCH_TYPE = "BenchNote"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the servers (each runs in its own process) -------------------------------------------


def serve_node(config_file: str, data_dir: str) -> None:
    from node.app import create_app
    from node.federation.handlers import ActivityHandler, InboxContext, register_handler
    from node.runtime.config import load_config
    from node.runtime.logs import configure_logging

    class NoOp(ActivityHandler):
        async def apply(self, ctx: InboxContext) -> None:
            return None

    def bench(app: web.Application) -> None:
        register_handler(app, "Create", BENCH_TYPE, NoOp())

    configure_logging("WARNING")
    config = load_config(config_file, data_dir=data_dir)
    app = create_app(config, extensions=[bench])
    web.run_app(app, host="127.0.0.1", port=config.listen.port, print=None, access_log=None)


def serve_bare(port: int) -> None:
    async def inbox(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"status": "accepted"}, status=202)

    app = web.Application()
    app.router.add_post("/inbox", inbox)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# -- setting the node up -------------------------------------------------------------------


def write_config(directory: Path, port: int, database_url: str) -> Path:
    config = directory / "bench.toml"
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
""",
        encoding="utf-8",
    )
    return config


async def prepare(config_file: Path, data_dir: Path, peer_actor: str, peer_key: Any) -> None:
    """Keys, schema, and the benchmark peer with its key pinned (as 'peer add' does)."""
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
            await repo.pin(session, peer, [key], pinned_by="admin", now=utcnow())
    finally:
        await db.dispose()


async def stored(config_file: Path, data_dir: Path) -> int:
    from sqlalchemy import func, select

    from node.models import InboxActivity
    from node.runtime.config import load_config
    from node.runtime.db import Database

    config = load_config(config_file, data_dir=data_dir)
    db = Database.open(config.database_url)
    try:
        async with db.read() as session:
            return int(await session.scalar(select(func.count()).select_from(InboxActivity)) or 0)
    finally:
        await db.dispose()


# -- load ---------------------------------------------------------------------------------


def presign(
    inbox: str, peer_actor: str, peer_key: Any, count: int
) -> list[tuple[dict[str, str], bytes]]:
    origin = peer_actor.rsplit("/", 1)[0]
    requests = []
    for n in range(count):
        activity = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{origin}/activities/{uuid.uuid4()}",
            "type": "Create",
            "actor": peer_actor,
            "to": ["http://127.0.0.1/actor"],
            "object": {"type": BENCH_TYPE, "n": n, "content": "x" * 520},
        }
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


async def drive(
    url: str, requests: list[tuple[dict[str, str], bytes]], concurrency: int
) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue = iter(requests)
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client() -> None:
            for headers, body in queue:
                started = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                latencies.append(time.perf_counter() - started)
                statuses[response.status] = statuses.get(response.status, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "seconds": round(elapsed, 3),
        "per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


def wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit("server did not start")


def start(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, __file__, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url", help="default: SQLite in a temporary directory")
    parser.add_argument(
        "--serve-node", nargs=2, metavar=("CONFIG", "DATA_DIR"), help=argparse.SUPPRESS
    )
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_node:
        serve_node(*args.serve_node)
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


def run(directory: Path, database_url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Both runs; prints the table and returns every figure."""
    node_port, bare_port = free_port(), free_port()
    config_file = write_config(directory, node_port, database_url)
    peer_actor = f"http://127.0.0.1:{free_port()}/actor"  # never contacted
    peer_key = generate_rsa_key(2048)
    asyncio.run(prepare(config_file, directory, peer_actor, peer_key))

    inbox = f"http://127.0.0.1:{node_port}/inbox"
    print(f"signing {args.warmup + args.requests} requests…", flush=True)
    warmup = presign(inbox, peer_actor, peer_key, args.warmup)
    timed = presign(inbox, peer_actor, peer_key, args.requests)
    body_bytes = len(timed[0][1])

    bare = start("--serve-bare", str(bare_port))
    try:
        wait_listening(bare_port, bare)
        asyncio.run(drive(f"http://127.0.0.1:{bare_port}/inbox", warmup, args.concurrency))
        ceiling = asyncio.run(drive(f"http://127.0.0.1:{bare_port}/inbox", timed, args.concurrency))
    finally:
        stop(bare)

    node = start("--serve-node", str(config_file), str(directory))
    try:
        wait_listening(node_port, node)
        asyncio.run(drive(inbox, warmup, args.concurrency))
        verified = asyncio.run(drive(inbox, timed, args.concurrency))
    finally:
        stop(node)
    rows = asyncio.run(stored(config_file, directory))

    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    ratio = round(verified["per_second"] / ceiling["per_second"], 3)
    print(
        f"\nbody {body_bytes} bytes, concurrency {args.concurrency}, "
        f"{args.requests} timed requests after {args.warmup} warm-up, {os.cpu_count()} cores"
    )
    print(f"{'':24}{'per second':>12}{'p50 ms':>10}{'p99 ms':>10}  statuses")
    for name, figures in ((f"node inbox ({backend})", verified), ("bare aiohttp 202", ceiling)):
        print(
            f"{name:24}{figures['per_second']:>12}{figures['p50_ms']:>10}"
            f"{figures['p99_ms']:>10}  {figures['statuses']}"
        )
    print(f"node / bare: {ratio}; inbox rows stored: {rows} of {args.warmup + args.requests}")
    return {
        "benchmark": "inbox",
        "database": backend,
        "body_bytes": body_bytes,
        "concurrency": args.concurrency,
        "requests": args.requests,
        "load_average": round(os.getloadavg()[0], 2),
        "node": verified,
        "bare": ceiling,
        "ratio": ratio,
        "stored": rows,
    }


if __name__ == "__main__":
    main()
