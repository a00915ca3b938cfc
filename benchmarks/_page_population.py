"""The city a pages benchmark runs against, seeded in bulk rather than through the
forms: the residents of Oldenburg with completed profiles (``benchmarks.synthetic``),
published as the node publishes them, pseudonyms towards the partner city, Cholet's
vectors as if received from it, and a full matching run (the node's own
``recompute_all``), so that every resident has suggestions and twins.

The first residents are the load generator's clients: each gets contacts (mutual ones,
requests both ways), a conversation of ``MESSAGES`` messages, an unseen notice, and a
login session opened by the node's session service.
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from benchmarks._node import profile_row, remote_profile_rows
from benchmarks.synthetic import generate_population

PEER_PATH = "/actor"
PASSWORD = "benchmark-password-42"  # noqa: S105 (accounts in a throwaway database)
MUTUAL, RECEIVED, SENT, MESSAGES = 5, 2, 1, 40


def _chunks(rows: list[dict[str, Any]], size: int = 5000) -> list[list[dict[str, Any]]]:
    return [rows[start : start + size] for start in range(0, len(rows), size)]


async def seed(
    config_file: Path,
    data_dir: Path,
    peer_origin: str,
    *,
    local_count: int,
    partner_count: int,
    logged_in: int,
    seed_value: int,
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """The city (``local_count`` residents), its partner (``partner_count`` profiles at
    ``peer_origin``), the matches, and the contacts of the first ``logged_in`` residents,
    who are logged in; the timings of each step and, per logged-in client, its session
    token and pages."""
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
        people = generate_population("oldenburg", local_count, seed_value)
        partner = generate_population("cholet", partner_count, seed_value)
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
        profiles = [profile_row(i + 1, person) for i, person in enumerate(people)]
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
        remote_rows = remote_profile_rows(peer_id, partner, now)
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
        rng = random.Random(seed_value)
        async with db.write() as session:
            remote_ids = (
                await session.execute(select(RemoteProfile.id, RemoteProfile.actor_url))
            ).all()
            taken: set[int] = set()
            for number in range(logged_in):
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
