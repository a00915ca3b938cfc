"""Full ``/vectors`` resync: a partner city's whole published set pulled, every page's
integrity proof verified, and this node's copy made equal to it.

A peer serving ``--profiles`` synthetic residents (Cholet's shape) in pages of the
size the node serves, each page signed with the peer's Ed25519 key as
``node.vectors._pages`` signs it, runs in a subprocess on loopback (the pages are
built and signed before it listens, so the peer answers at the speed of a static
file). The node's own code then syncs from it (``node.peer_vectors.sync.sync_peer`` with
the signed fetch the matching worker uses) into a database (SQLite by default, or
``--database-url``) three times:

* ``first``: nothing held yet, every profile stored;
* ``unchanged``: everything held, nothing newer (the common periodic resync);
* ``changed``: every profile newer (each sequence one higher).

Every figure is printed, and the last line is one JSON object holding all of them.

    .venv/bin/python benchmarks/resync.py [--profiles 54000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._node import free_port, scratch_postgres  # noqa: E402
from benchmarks._processes import stop, wait_listening  # noqa: E402

PAGE_SIZE = 500  # node.vectors._pages.PAGE_SIZE


def build_pages(port: int, profiles: int, sequence: int, key_file: Path) -> dict[str, bytes]:
    """The peer's whole set as it serves it: URL path → signed JSON document."""
    from urllib.parse import urlsplit

    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from benchmarks.synthetic import generate_population
    from matching.occupations import load_occupations
    from matching.taxonomy import load_taxonomy
    from matching.wire import profile_to_json
    from node.vectors.activities import Publisher, wire_profile

    key = load_pem_private_key(key_file.read_bytes(), password=None)
    publisher = Publisher(
        base_url=f"http://127.0.0.1:{port}",
        secret=b"benchmark" * 4,
        signing_key=key,  # type: ignore[arg-type]
        k=5,
        taxonomy=load_taxonomy(),
        occupations=load_occupations(),
    )
    residents = generate_population("cholet", profiles, seed=11)
    pseudonyms = sorted(f"{n:064x}" for n in range(profiles))
    day = datetime(2026, 11, 30, tzinfo=UTC)
    collection = f"{publisher.base_url}/vectors"
    documents: dict[str, Any] = {
        collection: publisher.sign(
            {
                "@context": publisher.context,
                "id": collection,
                "type": "OrderedCollection",
                "totalItems": profiles,
                "first": f"{collection}?page=start",
            }
        )
    }
    cursor = "start"
    for start in range(0, profiles, PAGE_SIZE):
        chunk = range(start, min(start + PAGE_SIZE, profiles))
        items = [
            wire_profile(
                profile_to_json(residents[n]),
                publisher.pseudonym_url(pseudonyms[n]),
                day,
                sequence,
            )
            for n in chunk
        ]
        page: dict[str, Any] = {
            "@context": publisher.context,
            "id": f"{collection}?page={cursor}",
            "type": "OrderedCollectionPage",
            "partOf": collection,
            "orderedItems": items,
        }
        if chunk.stop < profiles:
            page["next"] = f"{collection}?page={pseudonyms[chunk.stop - 1]}"
        documents[page["id"]] = publisher.sign(page)
        cursor = pseudonyms[chunk.stop - 1]
    return {
        urlsplit(url).path + ("?" + urlsplit(url).query if urlsplit(url).query else ""): (
            json.dumps(document).encode()
        )
        for url, document in documents.items()
    }


def serve_peer(port: int, profiles: int, sequence: int, key_file: str) -> None:
    """The peer: pre-built pages, answered as they are (its signature is not checked:
    the node's fetch signs, and what is measured is the node)."""
    from aiohttp import web

    pages = build_pages(port, profiles, sequence, Path(key_file))

    async def vectors(request: web.Request) -> web.Response:
        body = pages.get(request.path_qs)
        if body is None:
            raise web.HTTPNotFound()
        return web.Response(body=body, content_type="application/activity+json")

    app = web.Application()
    app.router.add_get("/vectors", vectors)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


async def prepare(database_url: str, peer_actor: str, key_pem: bytes) -> int:
    """Schema, and the peer with its Ed25519 key pinned; the peer's id."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from federation.actors import ActorKey
    from federation.keys import fingerprint, public_key_pem, published_key_id
    from node.models import utcnow
    from node.peers import registry as repo
    from node.runtime import migrate
    from node.runtime.db import Database

    public = load_pem_private_key(key_pem, password=None).public_key()
    db = Database.open(database_url)
    try:
        await migrate.upgrade(db.engine)
        async with db.write() as session:
            peer = await repo.upsert(session, peer_actor, source="admin")
            peer.inbox_url = peer_actor.removesuffix("/actor") + "/inbox"
            peer.actor_fetched_at = utcnow()
            key = ActorKey(
                published_key_id(peer_actor, public),  # type: ignore[arg-type]
                "ed25519",
                public,  # type: ignore[arg-type]
                public_key_pem(public),  # type: ignore[arg-type]
                fingerprint(public),  # type: ignore[arg-type]
            )
            await repo.pin(session, peer, [key], pinned_by="admin", now=utcnow())
            return int(peer.id)
    finally:
        await db.dispose()


async def sync_once(database_url: str, peer_id: int) -> dict[str, Any]:
    import httpx

    from federation.keys import generate_rsa_key
    from node.peer_vectors.store import VectorStats
    from node.peer_vectors.sync import sync_peer
    from node.peers.fetch import fetch_json
    from node.runtime.db import Database

    db = Database.open(database_url)
    try:
        async with httpx.AsyncClient(timeout=60) as client:
            fetch = partial(
                fetch_json,
                client,
                key_id="http://127.0.0.1/actor#main-key",
                private_key=generate_rsa_key(2048),
                max_bytes=64 * 1024 * 1024,
            )
            started, cpu = time.perf_counter(), time.process_time()
            result = await sync_peer(db, fetch, peer_id, VectorStats())
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        await db.dispose()
    outcome = result.reconciled
    return {
        "seconds": round(seconds, 3),
        # The node's own CPU time (this process: fetching, verifying, parsing, the
        # database client; not the database server's), which other load on the
        # machine disturbs far less than the elapsed time.
        "cpu_s": round(cpu, 3),
        "fetched": result.fetched,
        "pages": result.pages,
        "invalid": result.invalid,
        "stored": outcome.stored,
        "unchanged": outcome.unchanged,
        "removed": outcome.removed,
    }


def run(database_url: str, profiles: int, directory: Path) -> dict[str, Any]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    key_file = directory / "peer-ed25519.pem"
    key_file.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        )
    )
    port = free_port()
    peer_id = asyncio.run(
        prepare(database_url, f"http://127.0.0.1:{port}/actor", key_file.read_bytes())
    )
    figures: dict[str, Any] = {}
    for name, sequence in (("first", 1), ("unchanged", 1), ("changed", 2)):
        peer = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve-peer",
                str(port),
                str(profiles),
                str(sequence),
                str(key_file),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        try:
            wait_listening(port, peer, timeout=600)
            figures[name] = asyncio.run(sync_once(database_url, peer_id))
        finally:
            stop(peer)
        print(f"{name:>10}: {figures[name]}", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=54_000)
    parser.add_argument("--database-url", help="a PostgreSQL server; default SQLite")
    parser.add_argument("--serve-peer", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_peer:
        port, profiles, sequence, key_file = args.serve_peer
        serve_peer(int(port), int(profiles), int(sequence), key_file)
        return
    with tempfile.TemporaryDirectory(prefix="zwilling-resync-") as scratch:
        directory = Path(scratch)
        database_url = f"sqlite+aiosqlite:///{directory / 'node.db'}"
        scratch_name = f"zw_resync_{uuid.uuid4().hex[:12]}"
        if args.database_url:
            database_url = asyncio.run(scratch_postgres(args.database_url, scratch_name, "CREATE"))
        try:
            figures = run(database_url, args.profiles, directory)
        finally:
            if args.database_url:
                asyncio.run(scratch_postgres(args.database_url, scratch_name, "DROP"))
    backend = "postgresql" if args.database_url else "sqlite"
    load = round(os.getloadavg()[0], 2)
    print(
        f"{args.profiles} profiles in pages of {PAGE_SIZE}, {backend}, {os.cpu_count()} cores, "
        f"load average {load}; goal: a full resync in at most 10 s"
    )
    print(
        json.dumps(
            {
                "benchmark": "resync",
                "database": backend,
                "profiles": args.profiles,
                "page_size": PAGE_SIZE,
                "load_average": load,
                "first_s": figures["first"]["seconds"],
                "unchanged_s": figures["unchanged"]["seconds"],
                "changed_s": figures["changed"]["seconds"],
                "first_cpu_s": figures["first"]["cpu_s"],
                "unchanged_cpu_s": figures["unchanged"]["cpu_s"],
                "changed_cpu_s": figures["changed"]["cpu_s"],
                "runs": figures,
            }
        )
    )


if __name__ == "__main__":
    main()
