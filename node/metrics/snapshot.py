"""The figures that live in the database, read once per scrape.

A scrape runs one short reading unit (a handful of aggregate queries) and hands the
result to :class:`SnapshotCollector`, which turns it into gauges while the exposition
is generated. Nothing is read between scrapes, so requests and workers pay nothing
for these figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.metrics.labels import peer_label
from node.models import InboxActivity, OutboxActivity, Peer, PublishedVector, QueuedMail, Resident

OPEN_STATES = ("pending", "sending")


@dataclass(frozen=True, slots=True)
class PeerFigures:
    actor_url: str
    state: str
    failing_since: datetime | None
    last_success_at: datetime | None
    consecutive_failures: int
    queued: int
    failed: int
    oldest_queued_at: datetime | None


@dataclass(frozen=True, slots=True)
class Snapshot:
    taken_at: datetime
    peers: tuple[PeerFigures, ...]
    residents: Mapping[str, int]  # by account status
    published_profiles: int
    inbox_pending: int
    mail_queued: int
    mail_failed: int
    oldest_mail_at: datetime | None


async def read_snapshot(session: AsyncSession, now: datetime) -> Snapshot:
    """Every database figure of one scrape, in one reading unit of work."""
    outbox: dict[tuple[int, str], tuple[int, datetime | None]] = {}
    rows = await session.execute(
        select(
            OutboxActivity.peer_id,
            OutboxActivity.state,
            func.count(),
            func.min(OutboxActivity.created_at),
        )
        .where(OutboxActivity.state.in_((*OPEN_STATES, "failed")))
        .group_by(OutboxActivity.peer_id, OutboxActivity.state)
    )
    for peer_id, state, count, oldest in rows.all():
        outbox[(peer_id, state)] = (int(count), oldest)
    peers = []
    for peer in (await session.scalars(select(Peer).order_by(Peer.id))).all():
        open_rows = [outbox[(peer.id, s)] for s in OPEN_STATES if (peer.id, s) in outbox]
        peers.append(
            PeerFigures(
                actor_url=peer.actor_url,
                state=peer.state,
                failing_since=peer.failing_since,
                last_success_at=peer.last_success_at,
                consecutive_failures=peer.consecutive_failures,
                queued=sum(count for count, _ in open_rows),
                failed=outbox.get((peer.id, "failed"), (0, None))[0],
                oldest_queued_at=_earliest(oldest for _, oldest in open_rows),
            )
        )
    residents = await session.execute(
        select(Resident.status, func.count()).group_by(Resident.status)
    )
    mail = await session.execute(
        select(QueuedMail.state, func.count(), func.min(QueuedMail.created_at))
        .where(QueuedMail.state.in_((*OPEN_STATES, "failed")))
        .group_by(QueuedMail.state)
    )
    mail_rows = {state: (int(count), oldest) for state, count, oldest in mail.all()}
    open_mail = [mail_rows[s] for s in OPEN_STATES if s in mail_rows]
    return Snapshot(
        taken_at=now,
        peers=tuple(peers),
        residents={status: int(count) for status, count in residents.all()},
        published_profiles=await _count(session, select(func.count()).select_from(PublishedVector)),
        inbox_pending=await _count(
            session, select(func.count()).where(InboxActivity.state == "pending")
        ),
        mail_queued=sum(count for count, _ in open_mail),
        mail_failed=mail_rows.get("failed", (0, None))[0],
        oldest_mail_at=_earliest(oldest for _, oldest in open_mail),
    )


async def _count(session: AsyncSession, statement: object) -> int:
    return int(await session.scalar(statement) or 0)  # type: ignore[call-overload]


def _earliest(moments: Iterable[datetime | None]) -> datetime | None:
    return min((m for m in moments if m is not None), default=None)


def _age(snapshot: Snapshot, since: datetime | None) -> float:
    return max(0.0, (snapshot.taken_at - since).total_seconds()) if since else 0.0


def _stamp(moment: datetime | None) -> float:
    return moment.timestamp() if moment else 0.0


class SnapshotCollector(Collector):
    """Gauges from the latest snapshot; set right before the exposition is generated."""

    def __init__(self) -> None:
        self.latest: Snapshot | None = None

    def describe(self) -> Iterable[Metric]:
        return ()  # the families depend on the snapshot; nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        snapshot = self.latest
        yield GaugeMetricFamily(
            "zwilling_database_up",
            "Whether this scrape could read the database figures (1) or not (0).",
            value=0 if snapshot is None else 1,
        )
        if snapshot is not None:
            yield from _peer_families(snapshot)
            yield from _population_families(snapshot)


def _peer_families(snapshot: Snapshot) -> Iterator[Metric]:
    def family(name: str, text: str) -> GaugeMetricFamily:
        return GaugeMetricFamily(name, text, labels=["peer"])

    reachable = family("zwilling_peer_reachable", "1 while the peer answers, else 0.")
    failing = family(
        "zwilling_peer_failing_since_timestamp_seconds",
        "Since when deliveries to the peer fail (unix time; 0: not failing).",
    )
    success = family(
        "zwilling_peer_last_success_timestamp_seconds",
        "When the peer last took a delivery (unix time; 0: never).",
    )
    failures = family(
        "zwilling_peer_consecutive_failures", "Failed delivery rounds since the last answer."
    )
    queued = family("zwilling_outbox_queued", "Activities waiting to be delivered to the peer.")
    oldest = family(
        "zwilling_outbox_oldest_age_seconds",
        "Age of the oldest activity waiting for the peer (0: none waiting).",
    )
    failed = family(
        "zwilling_outbox_failed", "Activities the peer refused or that expired, kept for admins."
    )
    for peer in snapshot.peers:
        label = [peer_label(peer.actor_url)]
        reachable.add_metric(label, 1 if peer.state == "reachable" else 0)
        failing.add_metric(label, _stamp(peer.failing_since))
        success.add_metric(label, _stamp(peer.last_success_at))
        failures.add_metric(label, peer.consecutive_failures)
        queued.add_metric(label, peer.queued)
        oldest.add_metric(label, _age(snapshot, peer.oldest_queued_at))
        failed.add_metric(label, peer.failed)
    yield from (reachable, failing, success, failures, queued, oldest, failed)


def _population_families(snapshot: Snapshot) -> Iterator[Metric]:
    residents = GaugeMetricFamily(
        "zwilling_residents", "Resident accounts on this node, by status.", labels=["status"]
    )
    for status, count in sorted(snapshot.residents.items()):
        residents.add_metric([status], count)
    yield residents
    yield GaugeMetricFamily(
        "zwilling_published_profiles",
        "Profiles published to the partner cities (anonymised vectors).",
        value=snapshot.published_profiles,
    )
    yield GaugeMetricFamily(
        "zwilling_inbox_pending",
        "Received activities stored but not yet applied (retried with backoff).",
        value=snapshot.inbox_pending,
    )
    yield GaugeMetricFamily(
        "zwilling_mail_queued", "Mails waiting to be sent.", value=snapshot.mail_queued
    )
    yield GaugeMetricFamily(
        "zwilling_mail_oldest_age_seconds",
        "Age of the oldest mail waiting to be sent (0: none waiting).",
        value=_age(snapshot, snapshot.oldest_mail_at),
    )
    yield GaugeMetricFamily(
        "zwilling_mail_failed",
        "Mails given up on, until the retention purge.",
        value=snapshot.mail_failed,
    )
