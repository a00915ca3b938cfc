"""The delivery worker: sends queued outbox rows to peers' inboxes, for days if need be.

Each round claims, for every ready peer, a batch of its due rows in order (see
``node.federation._outbox_claims``) and works through the peers in parallel, each
peer's batch in sequence: sign afresh (draft-cavage rsa-sha256, a new Date per
attempt), POST, next. A row that must wait (timeout, network error, 408, 429,
5xx) ends the batch — the rows behind it stay queued, so nothing overtakes it;
a row refused with another 4xx is kept as failed and the batch goes on. A 401
within ``key_grace_days`` of this node's last key rotation must wait too: the peer
may not know the new key yet (``key_rotation``). The key is chosen when the row is
sent, never when it was queued. The batch is settled in one transaction, which
also claims the peer's next batch.

Per-peer health is recorded on the peer: ``reachable`` after any answer,
``failing`` (since when, next attempt at) otherwise. The next attempt follows
the failing row's backoff (and the peer's ``Retry-After``), so a dead peer gets
one request per backoff step, not one per queued row; nothing is dropped, and
the first answer resets the state.

Several workers may run against PostgreSQL. On SQLite run one per node (the one
inside ``zwilling run``, or ``zwilling worker`` next to ``run --no-workers``):
claims stay correct there too, but every write waits for the one database lock.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from federation.delivery import Outcome, classify, expired, parse_retry_after, retry_delay
from federation.documents import ACTIVITY_JSON
from federation.keys import published_key_id
from federation.signatures import sign_request
from node.federation import _outbox_claims as repo
from node.federation.appkeys import DELIVERY_WAKE
from node.federation.key_rotation import in_rotation_grace
from node.metrics import record as metrics
from node.models import OutboxActivity, Peer, utcnow
from node.peers.appkeys import REFRESHER
from node.runtime import appkeys
from node.runtime.config import FederationSection

log = logging.getLogger(__name__)

MAX_ERROR_TEXT = 500
PEERS_PER_ROUND = 32
BATCH = 16


def worker_name() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Claim:
    id: int
    peer_id: int
    activity_id: str
    payload: dict[str, Any]
    sign_with: str | None
    inbox_url: str
    created_at: datetime

    @classmethod
    def of(cls, row: OutboxActivity, inbox_url: str) -> Claim:
        return cls(
            row.id,
            row.peer_id,
            row.activity_id,
            row.payload,
            row.sign_with,
            inbox_url,
            row.created_at,
        )


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    status: int | None
    error: str | None
    retry_after: float | None


class DeliveryWorker:
    def __init__(
        self,
        app: web.Application,
        *,
        peers: int = PEERS_PER_ROUND,
        batch: int = BATCH,
        rng: random.Random | None = None,
    ) -> None:
        self.app = app
        self.name = worker_name()
        self.peers = peers
        self.batch = batch
        self.rng = rng or random.Random()
        self.stopping = False
        self._next_refresh = 0.0

    @property
    def _federation(self) -> FederationSection:
        return self.app[appkeys.CONFIG].federation

    def _lease(self) -> timedelta:
        return timedelta(seconds=self._federation.lease_seconds)

    # -- one round -------------------------------------------------------------------

    async def round(self) -> int:
        """Claim and work through what is due now; the number of attempts made."""
        if time.monotonic() >= self._next_refresh:
            # Peers never fetched (or not trusted yet) are looked at now and then, not
            # on every poll: the refresher throttles per peer anyway.
            self._next_refresh = time.monotonic() + self._federation.retry_base_seconds
            await self.app[REFRESHER].refresh_unfetched()
        now = utcnow()
        async with self.app[appkeys.DATABASE].write() as session:
            rows = await repo.claim_batches(
                session,
                now=now,
                lease=self._lease(),
                worker=self.name,
                peers=self.peers,
                batch=self.batch,
            )
            batches = [await self._claims(session, batch) for batch in rows]
        if not batches:
            return 0
        return sum(await asyncio.gather(*(self._drain(batch) for batch in batches)))

    async def _claims(self, session: Any, rows: list[OutboxActivity]) -> list[Claim]:
        if not rows:
            return []
        peer = await session.get(Peer, rows[0].peer_id)
        return [Claim.of(row, peer.inbox_url) for row in rows]

    async def _drain(self, batch: list[Claim]) -> int:
        attempts = 0
        while batch:
            results: list[tuple[Claim, Attempt]] = []
            lease_ends = time.monotonic() + self._federation.lease_seconds
            worst = self._federation.connect_timeout_seconds + self._federation.read_timeout_seconds
            for index, claim in enumerate(batch):
                if self.stopping:
                    break
                if time.monotonic() + worst + 5 > lease_ends:
                    lease_ends = await self._renew(batch[index:])
                attempt = await self.send(claim)
                results.append((claim, attempt))
                if attempt.outcome is Outcome.RETRY:
                    break
            attempts += len(results)
            batch = await self._settle(batch, results)
        return attempts

    async def _renew(self, remaining: list[Claim]) -> float:
        async with self.app[appkeys.DATABASE].write() as session:
            await repo.renew(
                session, [c.id for c in remaining], self.name, utcnow() + self._lease()
            )
        return time.monotonic() + self._federation.lease_seconds

    # -- sending ---------------------------------------------------------------------

    def _signing_key(self, wanted: str | None) -> tuple[str, RSAPrivateKey]:
        """The key id and key to sign with, chosen now: the key this node runs with,
        except for a rotation's announcement, which the retired key it replaces signs
        (the one the peer trusts). Either is named by its own id, which the served
        actor lists (the retired one during its grace period)."""
        keys = self.app[appkeys.KEYS]
        actor = self.app[appkeys.CONFIG].actor_url
        if wanted is not None and wanted != keys.rsa_fingerprint:
            retired = keys.retired_key(wanted)
            if retired is not None:
                return published_key_id(actor, retired.rsa), retired.rsa
            log.warning(
                "retired signing key not found; signing with the current key",
                extra={"fingerprint": wanted},
            )
        return keys.rsa_key_id(actor), keys.rsa

    async def send(self, claim: Claim) -> Attempt:
        """One attempt, signed afresh; never raises for the peer's or network's faults."""
        config = self.app[appkeys.CONFIG]
        body = json.dumps(claim.payload, ensure_ascii=False, separators=(",", ":")).encode()
        key_id, private_key = self._signing_key(claim.sign_with)
        try:
            headers = sign_request(
                "POST",
                claim.inbox_url,
                {"Content-Type": ACTIVITY_JSON, "Accept": "application/json"},
                body,
                key_id=key_id,
                private_key=private_key,
            )
            response = await self.app[appkeys.HTTP].post(
                claim.inbox_url, content=body, headers=headers
            )
        except httpx.HTTPError as exc:
            failure = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_TEXT]
            return Attempt(Outcome.RETRY, None, failure, None)
        outcome = classify(response.status_code)
        if response.status_code == 401 and outcome is Outcome.GIVE_UP:
            now = utcnow()
            patience = timedelta(hours=config.federation.unauthorised_retry_hours)
            if in_rotation_grace(config, self.app[appkeys.KEYS], now) or not expired(
                claim.created_at, now, patience
            ):
                # Not yet, rather than never: the peer may still hold the actor from
                # before a rotation, may not have pinned this node's keys yet, or one
                # of the two clocks is off. Each is fixed without touching the row.
                outcome = Outcome.RETRY
        error: str | None = None
        if outcome is not Outcome.DELIVERED:
            error = f"HTTP {response.status_code}: {response.text[:MAX_ERROR_TEXT]}"
        retry_after = parse_retry_after(response.headers.get("Retry-After"), utcnow())
        return Attempt(outcome, response.status_code, error, retry_after)

    # -- settling --------------------------------------------------------------------

    async def _settle(
        self, batch: list[Claim], results: list[tuple[Claim, Attempt]]
    ) -> list[Claim]:
        """Record a batch's attempts, hand back what was not sent; the peer's next batch
        when it may go on now."""
        federation = self._federation
        now = utcnow()
        outcomes = {claim.id: attempt for claim, attempt in results}
        peer_id = batch[0].peer_id
        async with self.app[appkeys.DATABASE].write() as session:
            rows = await repo.ours(session, [c.id for c in batch], self.name)
            if len(rows) < len(batch):
                log.warning("lease lost on part of a batch", extra={"peer": peer_id})
            peer = await session.get(Peer, peer_id)
            assert peer is not None  # rows go with their peer (ON DELETE CASCADE)
            metrics.delivery_attempts(self.app, peer.actor_url, _outcomes(results))
            answered = delivered = False
            retry: Attempt | None = None
            for row in rows:
                attempt = outcomes.get(row.id)
                row.lease_until = None  # claimed_by stays: which worker settled it
                if attempt is None:
                    row.state = "pending"  # not sent: first in line next time
                    continue
                row.tries += 1
                row.last_status = attempt.status
                if attempt.outcome is Outcome.DELIVERED:
                    row.state, row.delivered_at, row.last_error = "delivered", now, None
                    answered = delivered = True
                elif attempt.outcome is Outcome.GIVE_UP:
                    row.state, row.last_error = "failed", attempt.error
                    answered = True
                    peer.last_error = f"{row.activity_id}: {attempt.error}"[:2000]
                    log.warning(
                        "delivery refused by peer",
                        extra={"activity": row.activity_id, "status": attempt.status},
                    )
                else:
                    retry = attempt
                    delay = retry_delay(
                        row.tries,
                        base=federation.retry_base_seconds,
                        cap=federation.retry_max_seconds,
                        retry_after=attempt.retry_after,
                        rng=self.rng,
                    )
                    max_age = timedelta(hours=federation.delivery_max_age_hours)
                    row.state = "failed" if expired(row.created_at, now, max_age) else "pending"
                    row.next_try_at = now + timedelta(seconds=delay)
                    row.last_error = attempt.error
                    peer.next_attempt_at = row.next_try_at
            if delivered:
                peer.last_success_at = now
                peer.last_error = None
            if retry is not None:
                peer.state = "failing"
                peer.failing_since = peer.failing_since or now
                peer.consecutive_failures += 1
                peer.last_error = retry.error
                return []
            if answered:
                peer.state = "reachable"
                peer.failing_since = None
                peer.next_attempt_at = None
                peer.consecutive_failures = 0
            if self.stopping or len(rows) < len(batch):
                return []
            following = await repo.claim_batch(
                session,
                peer_id,
                now=now,
                lease=self._lease(),
                worker=self.name,
                batch=self.batch,
            )
            return [Claim.of(row, batch[0].inbox_url) for row in following]

    # -- the loop --------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        poll = self._federation.worker_poll_seconds
        wake_event = self.app.get(DELIVERY_WAKE)
        while not stop.is_set():
            try:
                busy = await self.round()
            except Exception:
                log.exception("delivery round failed; retrying")
                busy = 0
            if busy and not stop.is_set():
                continue
            await _sleep(poll, stop, wake_event)
        self.stopping = True


def _outcomes(results: list[tuple[Claim, Attempt]]) -> list[tuple[str, int | None]]:
    return [(attempt.outcome.value, attempt.status) for _, attempt in results]


async def _sleep(seconds: float, stop: asyncio.Event, wake_event: asyncio.Event | None) -> None:
    waiters = [asyncio.ensure_future(stop.wait())]
    if wake_event is not None:
        waiters.append(asyncio.ensure_future(wake_event.wait()))
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        if wake_event is not None:
            wake_event.clear()
