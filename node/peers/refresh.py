"""The peer registry: config peers in the database, their actors fetched, keys pinned.

Trust comes only from fingerprints: those in the config file (``[[peers]]``) and
those an admin pinned with ``zwilling peer add`` (stored in the database; they add
to the config's, they do not replace them). A fetched actor document contributes
the inbox URL and the key material, and a key from it is pinned only when its
fingerprint is one of those. A config peer with no fingerprint is known but not
trusted: the inbox refuses it and deliveries to it wait.

Fetching happens at startup and on first use (a delivery, or a request signed
with a key id from a configured peer's actor), never for a key id on a host that
is not a configured peer, and at most once per ``retry_base_seconds`` per peer.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy.exc import IntegrityError

from federation.actors import ActorError, ActorInfo, parse_actor
from node.models import Peer
from node.peers import registry as repo
from node.peers.fetch import PeerFetchError, SignedFetcher
from node.runtime.config import Config
from node.runtime.db import Database
from node.runtime.keys import NodeKeys

log = logging.getLogger(__name__)

KeyLookup = Literal["not-a-peer", "trusted", "untrusted", "unreachable"]


def main_key_id(config: Config, keys: NodeKeys) -> str:
    """The id under which this node publishes its current RSA key (and signs with it):
    ``#main-key-<suffix>``, a new one with every rotation."""
    return keys.rsa_key_id(config.actor_url)


async def sync_config_peers(config: Config, db: Database) -> None:
    """Upsert every ``[[peers]]`` entry (idempotent; several processes may race)."""
    for attempt in range(3):
        try:
            async with db.write() as session:
                listed = set()
                for entry in config.peers:
                    listed.add(entry.actor_url)
                    await repo.upsert(
                        session,
                        entry.actor_url,
                        source="config",
                        config_fingerprints=entry.fingerprints,
                    )
                for peer in await repo.all_peers(session):
                    if peer.source == "config" and peer.actor_url not in listed:
                        # Gone from the file: what the file pinned is no longer trusted.
                        await repo.upsert(
                            session, peer.actor_url, source="config", config_fingerprints=[]
                        )
            return
        except IntegrityError:
            if attempt == 2:
                raise


def apply_actor(peer: Peer, actor: ActorInfo, now: datetime) -> None:
    peer.name = actor.name or actor.preferred_username or peer.name
    peer.inbox_url = actor.inbox
    peer.actor_fetched_at = now


class PeerRefresher:
    """Fetches peers' actor documents, throttled per peer within this process."""

    def __init__(self, config: Config, db: Database, fetch: SignedFetcher) -> None:
        self._config = config
        self._db = db
        self._fetch = fetch
        self._last_attempt: dict[int, float] = {}

    def _allowed(self, peer_id: int, interval: float) -> bool:
        last = self._last_attempt.get(peer_id)
        now = time.monotonic()
        if last is not None and now - last < interval:
            return False
        self._last_attempt[peer_id] = now
        return True

    async def refresh(self, peer_id: int, *, slow: bool = False) -> bool:
        """Fetch the actor and pin the keys the fingerprints allow; True if trusted after.

        ``slow`` is for peers already fetched whose keys did not match: an admin has
        to act, so asking again often would only load the peer.
        """
        schedule = self._config.federation
        interval = schedule.retry_max_seconds if slow else schedule.retry_base_seconds
        if not self._allowed(peer_id, interval):
            return False
        async with self._db.read() as session:
            peer = await session.get(Peer, peer_id)
            if peer is None:
                return False
            actor_url = peer.actor_url
        try:
            actor = parse_actor(await self._fetch(actor_url), expected_id=actor_url)
        except (PeerFetchError, ActorError) as exc:
            reason = exc.reason if isinstance(exc, PeerFetchError) else str(exc)
            log.warning("peer actor fetch failed", extra={"peer": actor_url, "error": reason})
            async with self._db.write() as session:
                peer = await session.get(Peer, peer_id)
                if peer is not None:
                    peer.last_error = f"actor fetch: {reason}"[:2000]
            return False
        now = datetime.now(UTC)
        async with self._db.write() as session:
            peer = await session.get(Peer, peer_id)
            if peer is None:
                return False
            apply_actor(peer, actor, now)
            if (peer.last_error or "").startswith("actor fetch:"):
                peer.last_error = None  # reached again: the failed fetch is over
            allowed = set(peer.config_fingerprints)
            await repo.pin(
                session,
                peer,
                [key for key in actor.keys if key.fingerprint in allowed],
                pinned_by="config",
                now=now,
            )
            trusted = await repo.is_trusted(session, peer.id, now)
            if not trusted:
                peer.state = "untrusted"
                published = ", ".join(key.fingerprint for key in actor.keys) or "none"
                peer.last_error = (
                    f"no published key matches a pinned fingerprint (published: {published})"
                )
            elif peer.state in ("unknown", "untrusted"):
                peer.state = "reachable"
                peer.last_error = None
        return trusted

    async def refresh_for_key(self, key_id: str) -> KeyLookup:
        """First use: a request names a key we do not hold. Fetch only when the key id is
        on a configured peer's actor; say what became of it."""
        async with self._db.read() as session:
            peer = await repo.by_key_document(session, key_id)
            if peer is None:
                return "not-a-peer"
            peer_id = peer.id
            trusted = await repo.is_trusted(session, peer_id, datetime.now(UTC))
            if peer.actor_fetched_at is not None and trusted:
                return "untrusted"  # the peer is trusted, but not with this key
            if not trusted and not peer.config_fingerprints:
                return "untrusted"  # nothing pinned, so nothing a fetch could add
        if await self.refresh(peer_id):
            return "trusted"
        async with self._db.read() as session:
            peer = await session.get(Peer, peer_id)
            fetched = peer is not None and peer.actor_fetched_at is not None
        return "untrusted" if fetched else "unreachable"

    async def refresh_unfetched(self) -> None:
        """Peers whose actor was never fetched, and peers not trusted yet."""
        now = datetime.now(UTC)
        async with self._db.read() as session:
            todo = []
            for peer in await repo.all_peers(session):
                if peer.actor_fetched_at is None or peer.inbox_url is None:
                    todo.append((peer.id, False))
                elif peer.config_fingerprints and not await repo.is_trusted(session, peer.id, now):
                    todo.append((peer.id, True))
        for peer_id, slow in todo:
            try:
                await self.refresh(peer_id, slow=slow)
            except Exception:
                # Storage trouble or a bug: this start-up pass is only a head start;
                # the inbox and the workers fetch an unknown peer when they need it.
                log.exception("peer refresh at start-up failed", extra={"peer_id": peer_id})
