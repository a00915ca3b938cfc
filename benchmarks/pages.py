"""Pages under load: logged-in residents clicking through a node that holds a whole city.

Seeds a node's database in bulk (not through the forms): ``--local`` residents of
Oldenburg with completed profiles (``benchmarks.synthetic``), published as the node
publishes them, pseudonyms towards the partner city, ``--partner`` vectors of Cholet
as if received from it, and a full matching run (the node's own ``recompute_all``), so
that every resident has suggestions and twins. ``--clients`` of the residents get
contacts (mutual ones, requests both ways), a conversation of 40 messages, an unseen
notice, and a login session opened by the node's session service; their cookies go
to the load generator.

The node then runs in a subprocess, and ``--processes`` load-generating processes
(aiohttp clients, ``--clients`` in all, one resident each) open the landing page,
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
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._node import free_port  # noqa: E402
from benchmarks.synthetic import generate_population  # noqa: E402

PEER_PATH = "/actor"
PASSWORD = "benchmark-password-42"  # noqa: S105 (accounts in a throwaway database)
PAGES = ("landing", "twin", "contacts", "conversation")
MUTUAL, RECEIVED, SENT, MESSAGES = 5, 2, 1, 40
TRIVIAL_BODY = "<!doctype html><title>ok</title><p>ok</p>\n"


# -- the servers (each in its own process) -------------------------------------------------


def serve_node(config_file: str, data_dir: str, background: bool, deliveries: float) -> None:
    from node.app import create_app, installed_extensions
    from node.runtime import appkeys
    from node.runtime.config import load_config
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
    web.run_app(app, host="127.0.0.1", port=config.listen.port, print=None, access_log=None)


def serve_bare(port: int) -> None:
    """The trivial handler (the generator's ceiling) and the partner's inbox."""

    async def trivial(_request: web.Request) -> web.Response:
        return web.Response(text=TRIVIAL_BODY, content_type="text/html")

    async def inbox(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"status": "accepted"}, status=202)

    app = web.Application()
    app.router.add_get("/trivial", trivial)
    app.router.add_post("/inbox", inbox)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# -- seeding -------------------------------------------------------------------------------


def write_config(directory: Path, port: int, database_url: str, k: int) -> Path:
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

[matching]
k_anonymity = {k}
""",
        encoding="utf-8",
    )
    return config


def _chunks(rows: list[dict[str, Any]], size: int = 5000) -> list[list[dict[str, Any]]]:
    return [rows[start : start + size] for start in range(0, len(rows), size)]


async def seed(
    config_file: Path, data_dir: Path, args: argparse.Namespace, peer_origin: str
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """The city, its partner, the matches, and the logged-in residents' contacts;
    the timings of each step and, per logged-in client, its cookie and pages."""
    from federation.actors import ActorKey
    from federation.keys import fingerprint, generate_rsa_key, public_key_pem
    from node.accounts import passwords
    from node.accounts import sessions as session_service
    from node.matches.compute import recompute_all
    from node.matches.state import new_state
    from node.models import (
        Contact,
        Message,
        Notice,
        Profile,
        PublishedVector,
        RemoteProfile,
        Resident,
        Suggestion,
        utcnow,
    )
    from node.peers import registry
    from node.pseudonyms import actor_url, derive, ensure_for_peer
    from node.runtime import migrate
    from node.runtime.config import load_config
    from node.runtime.db import Database
    from node.runtime.keys import ensure_keys, load_keys
    from node.vectors.activities import publisher_for
    from node.vectors.publication import publish_changes
    from node.vectors.stored import stored_form

    timings: dict[str, float] = {}
    config = load_config(config_file, data_dir=data_dir)
    ensure_keys(config)
    publisher = publisher_for(config, load_keys(config))
    db = Database.open(config.database_url)
    base = config.node.base_url
    now = utcnow()
    try:
        await migrate.upgrade(db.engine)
        started = time.perf_counter()
        people = generate_population("oldenburg", args.local, args.seed)
        partner = generate_population("cholet", args.partner, args.seed)
        timings["generate_s"] = time.perf_counter() - started

        started = time.perf_counter()
        password_hash = await passwords.hash_password(PASSWORD)
        residents = [
            {
                "id": i + 1,
                "email": f"resident-{i + 1}@oldenburg.example",
                "password_hash": password_hash,
                "display_name": f"Resident {i + 1}",
                "kind": person.kind,
                "language": "de",
                "email_verified_at": now,
            }
            for i, person in enumerate(people)
        ]
        profiles = [
            {
                "resident_id": i + 1,
                "interests": list(person.interests),
                "occupation": person.occupation,
                "languages": dict(person.languages),
                "learning": list(person.learning),
                "age_band": person.age_band,
                "children_age_bands": list(person.children_age_bands),
                "about": "",
                "completed": True,
            }
            for i, person in enumerate(people)
        ]
        async with db.write() as session:
            for chunk in _chunks(residents):
                await session.execute(insert(Resident), chunk)
            for chunk in _chunks(profiles):
                await session.execute(insert(Profile), chunk)
        del residents, profiles
        timings["insert_residents_s"] = time.perf_counter() - started

        started = time.perf_counter()
        async with db.write() as session:  # no peer yet: vectors only, nothing queued
            await publish_changes(session, publisher, thorough=True)
        peer_actor = f"{peer_origin}{PEER_PATH}"
        async with db.write() as session:
            peer = await registry.upsert(session, peer_actor, source="admin")
            peer.name = "Cholet"
            peer.inbox_url = f"{peer_origin}/inbox"
            peer.actor_fetched_at = now
            public = generate_rsa_key(2048).public_key()
            key = ActorKey(
                f"{peer_actor}#main-key", "rsa", public, public_key_pem(public), fingerprint(public)
            )
            await registry.pin(session, peer, [key], pinned_by="admin", now=now)
            await session.flush()
            peer_id = peer.id
            published = (await session.scalars(select(PublishedVector.resident_id))).all()
            await ensure_for_peer(session, publisher.secret, peer, [(rid, 0) for rid in published])
        timings["publish_s"] = time.perf_counter() - started

        started = time.perf_counter()
        remote_rows = [
            {
                "peer_id": peer_id,
                "actor_url": person.id,
                "vector": stored_form(person),
                "updated": now,
                "sequence": 1,
            }
            for person in partner
        ]
        async with db.write() as session:
            for chunk in _chunks(remote_rows):
                await session.execute(insert(RemoteProfile), chunk)
        timings["insert_partner_s"] = time.perf_counter() - started

        started = time.perf_counter()
        state = new_state(config)
        await recompute_all(db, state)
        timings["first_matching_s"] = time.perf_counter() - started

        started = time.perf_counter()
        clients: list[dict[str, Any]] = []
        rng = random.Random(args.seed)
        async with db.write() as session:
            remote_ids = (
                await session.execute(select(RemoteProfile.id, RemoteProfile.actor_url))
            ).all()
            taken: set[int] = set()
            for number in range(args.clients):
                resident_id = number + 1
                local = actor_url(base, derive(publisher.secret, resident_id, 0, peer_actor))
                suggested = (
                    await session.scalars(
                        select(Suggestion.remote_profile_id)
                        .where(Suggestion.resident_id == resident_id)
                        .order_by(Suggestion.rank)
                    )
                ).all()
                wanted = MUTUAL + RECEIVED + SENT
                chosen = [rid for rid in suggested if rid not in taken][:wanted]
                while len(chosen) < wanted:
                    rid, _actor = remote_ids[rng.randrange(len(remote_ids))]
                    if rid not in taken and rid not in chosen:
                        chosen.append(rid)
                taken.update(chosen)
                actors = dict(remote_ids)
                contacts = []
                for position, rid in enumerate(chosen):
                    mutual = position < MUTUAL
                    received = MUTUAL <= position < MUTUAL + RECEIVED
                    at = now - timedelta(days=30 - position)
                    contact = Contact(
                        resident_id=resident_id,
                        peer_id=peer_id,
                        local_actor=local,
                        remote_actor=actors[rid],
                        my_consent="yes" if not received else "none",
                        their_consent="yes" if mutual or received else "none",
                        my_consent_at=at if not received else None,
                        their_consent_at=at if mutual or received else None,
                        my_follow_id=None if received else f"{local}/follows/{uuid.uuid4()}",
                        their_follow_id=(
                            f"{actors[rid]}/follows/{uuid.uuid4()}" if mutual or received else None
                        ),
                        mutual_since=at if mutual else None,
                        their_name=f"Partner {rid}" if mutual else None,
                        their_about="Bonjour !" if mutual else None,
                        revealed_at=at if mutual else None,
                        created_at=at,
                        updated_at=at,
                    )
                    session.add(contact)
                    contacts.append(contact)
                await session.flush()
                talk = contacts[0]
                for m in range(MESSAGES):
                    incoming = m % 2 == 1
                    author = talk.remote_actor if incoming else local
                    written = now - timedelta(days=20) + timedelta(hours=m)
                    session.add(
                        Message(
                            contact_id=talk.id,
                            direction="in" if incoming else "out",
                            activity_id=f"{author}/a/{uuid.uuid4()}",
                            note_id=f"{author}/n/{uuid.uuid4()}",
                            body=f"Message {m}: https://example.org/{m} — à bientôt !\nZeile 2",
                            created_at=written,
                            received_at=written,
                            read_at=written,
                            notify="none",
                        )
                    )
                session.add(
                    Notice(
                        resident_id=resident_id,
                        contact_id=contacts[MUTUAL].id,
                        kind="request",
                        created_at=now,
                        updated_at=now,
                    )
                )
                opened = await session_service.open_session(session, resident_id=resident_id)
                clients.append(
                    {
                        "token": opened.token,
                        "pages": {
                            "landing": "/",
                            "twin": "/twin",
                            "contacts": "/contacts",
                            "conversation": f"/contacts/{talk.id}",
                        },
                    }
                )
        timings["contacts_s"] = time.perf_counter() - started
    finally:
        await db.dispose()
    return {name: round(value, 2) for name, value in timings.items()}, clients


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


# -- load ----------------------------------------------------------------------------------


async def _drive(spec: dict[str, Any]) -> dict[str, Any]:
    """One generator process: its clients, each a logged-in resident in a loop over the
    pages, for the given seconds; latencies per page."""
    base, seconds, timeout = spec["base"], spec["seconds"], spec["timeout"]
    latencies: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    timeouts: dict[str, int] = {}
    statuses: dict[str, int] = {}
    deadline = time.perf_counter() + spec["warmup"] + seconds
    measuring_from = time.perf_counter() + spec["warmup"]
    per_request = aiohttp.ClientTimeout(total=timeout)

    async def client(entry: dict[str, Any], offset: int) -> None:
        jar = aiohttp.CookieJar(unsafe=True)
        cookies = {spec["cookie"]: entry["token"]} if entry.get("token") else {}
        connector = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(
            connector=connector, cookie_jar=jar, cookies=cookies, timeout=per_request
        ) as session:
            names = list(entry["pages"])
            turn = offset
            while time.perf_counter() < deadline:
                name = names[turn % len(names)]
                turn += 1
                started = time.perf_counter()
                status: int | None = None
                late = False
                try:
                    async with session.get(base + entry["pages"][name], allow_redirects=False) as r:
                        await r.read()
                        status = r.status
                except TimeoutError:
                    late = True
                except aiohttp.ClientError:
                    status = None
                elapsed = time.perf_counter() - started
                if started < measuring_from:
                    continue
                latencies.setdefault(name, []).append(elapsed)
                if late:
                    timeouts[name] = timeouts.get(name, 0) + 1
                elif status != 200:
                    errors[name] = errors.get(name, 0) + 1
                    statuses[f"{name} {status}"] = statuses.get(f"{name} {status}", 0) + 1

    await asyncio.gather(*(client(entry, i) for i, entry in enumerate(spec["clients"])))
    return {"latencies": latencies, "errors": errors, "timeouts": timeouts, "statuses": statuses}


def drive_main(spec_file: str, result_file: str) -> None:
    spec = json.loads(Path(spec_file).read_text(encoding="utf-8"))
    result = asyncio.run(_drive(spec))
    Path(result_file).write_text(json.dumps(result), encoding="utf-8")


def load(
    directory: Path,
    name: str,
    base: str,
    clients: list[dict[str, Any]],
    args: argparse.Namespace,
    seconds: float,
    cookie: str,
) -> dict[str, Any]:
    """Spread the clients over the generator processes, run them, merge their figures."""
    processes = max(1, min(args.processes, len(clients)))
    started_procs = []
    for p in range(processes):
        spec = {
            "base": base,
            "seconds": seconds,
            "warmup": args.warmup,
            "timeout": args.timeout,
            "cookie": cookie,
            "clients": clients[p::processes],
        }
        spec_file = directory / f"{name}-{p}.spec.json"
        result_file = directory / f"{name}-{p}.result.json"
        spec_file.write_text(json.dumps(spec), encoding="utf-8")
        started_procs.append((start("--drive", str(spec_file), str(result_file)), result_file))
    merged: dict[str, Any] = {"latencies": {}, "errors": {}, "timeouts": {}, "statuses": {}}
    for process, result_file in started_procs:
        if process.wait() != 0:
            raise SystemExit(f"a load generator failed ({process.returncode})")
        result = json.loads(result_file.read_text(encoding="utf-8"))
        for key in merged:
            for page, value in result[key].items():
                if key == "latencies":
                    merged[key].setdefault(page, []).extend(value)
                else:
                    merged[key][page] = merged[key].get(page, 0) + value
    return merged


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


def start(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "benchmarks.pages", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit("server did not start")


def cpu_seconds(pid: int) -> float:
    """User and system CPU of a process so far (Linux), 0 where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
    node_port, bare_port = free_port(), free_port()
    k = 5 if args.local >= 1000 else 1
    config_file = write_config(directory, node_port, database_url, k)
    bare_origin = f"http://127.0.0.1:{bare_port}"
    print(f"seeding {args.local} residents and {args.partner} partner profiles…", flush=True)
    seeding, clients = asyncio.run(seed(config_file, directory, args, bare_origin))
    for name, value in seeding.items():
        print(f"  {name}: {value}", flush=True)
    from node.runtime.config import load_config
    from web.sessions import cookie_name

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
    bare = start("--serve-bare", str(bare_port))
    node = None
    try:
        wait_listening(bare_port, bare)
        trivial = [{"pages": {"trivial": "/trivial"}} for _ in clients]
        ceiling_seconds = min(args.ceiling_seconds, args.seconds)
        figures["load_average_before_ceiling"] = round(os.getloadavg()[0], 2)
        merged = load(directory, "ceiling", bare_origin, trivial, args, ceiling_seconds, cookie)
        figures["ceiling"] = summarise(merged, ceiling_seconds, ("trivial",))["trivial"]
        node = start(
            "--serve-node",
            str(config_file),
            str(directory),
            *(["--background"] if args.background else []),
            "--deliveries",
            str(args.deliveries),
        )
        wait_listening(node_port, node)
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
            args,
            args.seconds,
            cookie,
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
    parser.add_argument("--drive", nargs=2, metavar=("SPEC", "RESULT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_node:
        serve_node(*args.serve_node, args.background, args.deliveries)
        return
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return
    if args.drive:
        drive_main(*args.drive)
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
