"""Residents with profiles on real nodes, and the vector exchange between them driven
step by step (deliver, sync, recompute) so that tests need not wait for timers."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from node.matches.appkeys import MATCHING
from node.matches.compute import RecomputeResult, recompute_all
from node.models import (
    OutboxActivity,
    Peer,
    Pseudonym,
    RemoteProfile,
    Resident,
    Suggestion,
    Twin,
    utcnow,
)
from node.peer_vectors.appkeys import VECTOR_STATS
from node.peer_vectors.sync import SyncResult, sync_peer
from node.peers.appkeys import FETCHER
from node.peers.fetch import fetch_json
from node.profiles import profiles
from node.profiles.profiles import ProfileData
from node.runtime import appkeys
from node.vectors.appkeys import PUBLISHER
from tests.lib.support.federation import trusting, wait_for
from tests.lib.support.nodes import RunningNode, wake

INTERESTS = (
    "sport.cycling",
    "sport.running",
    "sport.swimming",
    "sport.football",
    "music_making.choir",
    "music_making.guitar",
    "outdoors.hiking",
    "home_garden.gardening",
    "literature.novels",
    "food.baking",
    "games.chess",
    "arts.painting",
)


async def add_resident(
    node: RunningNode,
    profile: ProfileData,
    *,
    name: str = "Resident",
    email: str | None = None,
    kind: str = "person",
    language: str = "de",
) -> int:
    """A confirmed account with a saved profile, stored through the profile service (so
    the publication hooks run exactly as for a page)."""
    assert node.app is not None
    async with node.app[appkeys.DATABASE].write() as session:
        resident = Resident(
            email=email or f"{random.getrandbits(64):x}@example.org",
            password_hash="!",
            display_name=name,
            kind=kind,
            language=language,
            email_verified_at=utcnow(),
        )
        session.add(resident)
        await session.flush()
        await profiles.save_profile(session, resident, profile, node.app[PUBLISHER])
        resident_id = resident.id
    return resident_id


async def set_paused(node: RunningNode, resident_id: int, paused: bool) -> None:
    assert node.app is not None
    async with node.app[appkeys.DATABASE].write() as session:
        resident = await session.get(Resident, resident_id)
        assert resident is not None
        await profiles.set_paused(session, resident, paused, node.app[PUBLISHER])


def person(
    interests: Iterable[str],
    *,
    languages: dict[str, str] | None = None,
    learning: Iterable[str] = (),
    age_band: str = "30-39",
    occupation: str | None = "23",
    about: str = "",
) -> ProfileData:
    return ProfileData(
        interests=tuple(interests),
        occupation=occupation,
        languages=languages or {"de": "native", "fr": "B1"},
        learning=tuple(learning),
        age_band=age_band,
        about=about,
    )


def varied_profiles(count: int, seed: int, native: str, other: str) -> list[ProfileData]:
    """Overlapping interests, languages and ages, reproducible from ``seed``."""
    rng = random.Random(seed)
    result = []
    for _ in range(count):
        interests = rng.sample(INTERESTS, rng.randint(2, 5))
        level = rng.choice(["A2", "B1", "B2", "C1"])
        languages = {native: "native", other: level, "en": rng.choice(["B1", "B2", "A2"])}
        learning = [other] if level in ("A2", "B1") else []
        result.append(
            person(
                interests,
                languages=languages,
                learning=learning,
                age_band=rng.choice(["20-29", "30-39", "40-49", "50-59"]),
                occupation=rng.choice(["23", "22", "51", "71", None]),
            )
        )
    return result


async def delivered(node: RunningNode, within: float = 30.0) -> None:
    """Wait until the node's outbox holds nothing still to send."""
    assert node.app is not None
    app = node.app

    async def empty() -> bool:
        wake(app)
        async with app[appkeys.DATABASE].read() as session:
            waiting = await session.scalar(
                select(OutboxActivity.id)
                .where(OutboxActivity.state.in_(("pending", "sending")))
                .limit(1)
            )
        return waiting is None

    await wait_for(empty, within=within, what=f"{node.config.node.slug} outbox drained")


async def acquainted(a: RunningNode, b: RunningNode) -> None:
    """Wait until each node has fetched the other's actor and pinned its keys."""

    async def both() -> bool:
        return await trusting(a, b) and await trusting(b, a)

    await wait_for(both, what="both nodes trusting each other")


async def peer_id(node: RunningNode, other: RunningNode | str) -> int:
    assert node.app is not None
    actor = other if isinstance(other, str) else other.config.actor_url
    async with node.app[appkeys.DATABASE].read() as session:
        found = await session.scalar(select(Peer.id).where(Peer.actor_url == actor))
    assert found is not None, actor
    return found


async def sync(node: RunningNode, other: RunningNode) -> SyncResult:
    assert node.app is not None
    app = node.app
    return await sync_peer(
        app[appkeys.DATABASE], app[FETCHER], await peer_id(node, other), app[VECTOR_STATS]
    )


async def recompute(node: RunningNode) -> list[RecomputeResult]:
    assert node.app is not None
    return await recompute_all(node.app[appkeys.DATABASE], node.app[MATCHING])


async def remote_vectors(node: RunningNode) -> dict[str, dict[str, Any]]:
    """Actor URL → stored vector, everything ``node`` holds of its peers."""
    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as session:
        rows = await session.execute(select(RemoteProfile.actor_url, RemoteProfile.vector))
        return {actor: vector for actor, vector in rows}


async def pseudonym_urls(node: RunningNode, resident_id: int) -> dict[str, str]:
    """Peer actor URL → the resident's current pseudonym actor URL towards it."""
    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as session:
        rows = await session.execute(
            select(Peer.actor_url, Pseudonym.pseudonym)
            .join(Peer, Peer.id == Pseudonym.peer_id)
            .where(Pseudonym.resident_id == resident_id, Pseudonym.withdrawn_at.is_(None))
        )
        return {peer: f"{node.url}/p/{value}" for peer, value in rows}


async def signed_fetch(client: Any, url: str, signer: RunningNode) -> Any:
    """GET ``url`` signed with ``signer``'s key, as its node would fetch it."""
    return await fetch_json(
        client, url, key_id=f"{signer.config.actor_url}#main-key", private_key=signer.keys.rsa
    )


async def matches(
    node: RunningNode,
) -> tuple[dict[tuple[str, str], float], set[tuple[str, str, float]]]:
    """What ``node`` shows, by actor URLs: ``(own pseudonym, peer resident) → score`` of
    every suggestion, and the twin pairs with their scores (the current generation)."""
    assert node.app is not None
    mine = aliased(Pseudonym)
    suggestions: dict[tuple[str, str], float] = {}
    twins: set[tuple[str, str, float]] = set()
    async with node.app[appkeys.DATABASE].read() as session:
        for model in (Suggestion, Twin):
            rows = await session.execute(
                select(mine.pseudonym, RemoteProfile.actor_url, model.score)
                .join(
                    mine,
                    (mine.resident_id == model.resident_id)
                    & (mine.peer_id == model.peer_id)
                    & mine.withdrawn_at.is_(None),
                )
                .join(RemoteProfile, RemoteProfile.id == model.remote_profile_id)
                .where(model.current())
            )
            for pseudonym, other, score in rows:
                own = f"{node.url}/p/{pseudonym}"
                if model is Suggestion:
                    suggestions[(own, other)] = score
                else:
                    twins.add((own, other, score))
    return suggestions, twins
