"""The resident's copy of their data (the right of access: GDPR article 15).

One JSON-ready document with everything this node holds about the resident and
everything it told its peers about them: the account, the profile as entered, the
pseudonym towards each peer (every one ever issued, as the peer knows it: the
pseudonym actor URL), the vector exactly as last published under each of them with
the time it was sent, the current twins and suggestions with their scores, the
contacts and messages, the reports the resident filed, and how long the node keeps
what. Secrets (password hash, token and session hashes) are described, not copied.

Every query is bound to the resident's own id, so the document carries nothing of
another resident of this node: contacts and reports name only the partner
resident's pseudonym and what that person chose to reveal, and never the admin who
handled a report.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node import pseudonyms
from node.accounts import sessions, two_factor
from node.contacts import views as contact_views
from node.models import (
    AccountToken,
    Contact,
    LoginThrottle,
    Peer,
    Profile,
    Pseudonym,
    PublishedVector,
    RemoteProfile,
    Report,
    Resident,
    Suggestion,
    Twin,
    utcnow,
)
from node.runtime.config import Config
from node.vectors.activities import wire_profile

FORMAT = "zwilling-export/2"

# What each retention period of the config applies to (docs/privacy.md has the whole
# record of processing).
RETENTION_APPLIES_TO: dict[str, str] = {
    "activity_payload_days": (
        "the body of an activity received from or delivered to a partner city "
        "(only its id is kept afterwards)"
    ),
    "failed_activity_days": "an activity that could not be delivered or applied, kept for admins",
    "handled_report_days": "the copy of reported messages once admins have handled the report",
    "mail_file_days": "a notification mail written to the node's mail folder",
}


async def export_data(
    session: AsyncSession, resident: Resident, config: Config, *, secret: bytes
) -> dict[str, Any]:
    """Everything the node stores about ``resident`` and sent about them, as one document.
    ``secret`` is the node's pseudonym secret: a pseudonym that has not sent an
    ``Update`` yet (its peer read the vector with ``GET /vectors``) numbers it from its
    keyed start, as the peer saw it."""
    profile = await session.get(Profile, resident.id)
    login_sessions = await sessions.sessions_of(session, resident.id)
    links = await session.scalars(
        select(AccountToken)
        .where(AccountToken.resident_id == resident.id)
        .order_by(AccountToken.created_at)
    )
    throttle = await session.get(LoginThrottle, resident.email)
    return {
        "format": FORMAT,
        "exported_at": _iso(utcnow()),
        "account": {
            "id": resident.id,
            "email": resident.email,
            "display_name": resident.display_name,
            "kind": resident.kind,
            "role": resident.role,
            "status": resident.status,
            "language": resident.language,
            "email_verified_at": _iso(resident.email_verified_at),
            "adult_declared_at": _iso(resident.adult_declared_at),
            "notify_requests": resident.notify_requests,
            "notify_acceptances": resident.notify_acceptances,
            "notify_messages": resident.notify_messages,
            "created_at": _iso(resident.created_at),
            "password": "stored only as an Argon2id hash",
        },
        "profile": None if profile is None else _profile_document(profile),
        "partner_cities": await _partner_cities(session, resident, config.node.base_url, secret),
        "sessions": [
            {
                "created_at": _iso(row.created_at),
                "last_seen_at": _iso(row.last_seen_at),
                "device": row.device,
            }
            for row in login_sessions
        ],
        "two_factor": await _two_factor(session, resident),
        "mailed_links": [
            {
                "purpose": row.purpose,
                "created_at": _iso(row.created_at),
                "expires_at": _iso(row.expires_at),
                "used_at": _iso(row.used_at),
            }
            for row in links
        ],
        "failed_logins": None
        if throttle is None
        else {"count": throttle.failures, "last_at": _iso(throttle.last_failure_at)},
        "contacts": await contact_views.export_for(session, resident),
        "reports_filed": await _reports_filed(session, resident),
        "retention": retention(config),
    }


async def _two_factor(session: AsyncSession, resident: Resident) -> dict[str, Any]:
    """Whether two-factor sign-in is on, since when, and how many recovery codes are
    left; never the secret or the codes' hashes, which are of no use to anyone else
    and would let whoever holds the export pass the second step."""
    state = await two_factor.state_of(session, resident.id)
    enabled = state is not None and state.enabled_at is not None
    return {
        "enabled_at": _iso(state.enabled_at) if state is not None else None,
        "recovery_codes_left": (
            await two_factor.recovery_codes_left(session, resident.id) if enabled else 0
        ),
    }


def retention(config: Config) -> dict[str, dict[str, Any]]:
    """The retention periods of this node, each with what it applies to."""
    periods = config.retention
    return {
        name: {"days": getattr(periods, name), "applies_to": applies_to}
        for name, applies_to in RETENTION_APPLIES_TO.items()
    } | {
        "login_sessions": {
            "days": round(config.sessions.absolute_timeout_hours / 24, 2),
            "applies_to": "a login session, at the latest (idle sessions end sooner)",
        }
    }


async def _partner_cities(
    session: AsyncSession, resident: Resident, base_url: str, secret: bytes
) -> list[dict[str, Any]]:
    """Per peer: the resident's pseudonyms there, the vector as last sent, the matches."""
    peers = (await session.scalars(select(Peer).order_by(Peer.id))).all()
    issued = (
        await session.scalars(
            select(Pseudonym)
            .where(Pseudonym.resident_id == resident.id)
            .order_by(Pseudonym.peer_id, Pseudonym.epoch, Pseudonym.id)
        )
    ).all()
    carried = Counter(
        (
            await session.scalars(
                select(Contact.local_actor).where(Contact.resident_id == resident.id)
            )
        ).all()
    )
    published = await session.get(PublishedVector, resident.id)
    result = []
    for peer in peers:
        mine = [row for row in issued if row.peer_id == peer.id]
        current = next(
            (
                row
                for row in mine
                if row.epoch == resident.pseudonym_epoch and row.withdrawn_at is None
            ),
            None,
        )
        result.append(
            {
                "peer": peer.actor_url,
                "city": peer.name,
                "pseudonyms": [
                    _pseudonym_document(row, base_url, row is current, carried) for row in mine
                ],
                "vector_as_sent": None
                if current is None or published is None
                else _as_sent(published, base_url, secret, current),
                "vector_sent_at": None
                if current is None or published is None
                else _iso(published.published_at),
                "twins": await _twins(session, resident, peer),
                "suggestions": await _suggestions(session, resident, peer),
            }
        )
    return result


def _pseudonym_document(
    row: Pseudonym, base_url: str, current: bool, carried: Counter[str]
) -> dict[str, Any]:
    url = pseudonyms.actor_url(base_url, row.pseudonym)
    return {
        "actor": url,
        "current": current,
        "issued_at": _iso(row.created_at),
        "profile_withdrawn_at": _iso(row.withdrawn_at),
        "retired_at": _iso(row.retired_at),
        "contacts": carried.get(url, 0),
    }


def _as_sent(
    published: PublishedVector, base_url: str, secret: bytes, row: Pseudonym
) -> dict[str, Any]:
    """The vector as the peer received it under the pseudonym ``row`` (the object the
    last ``Update`` or ``GET /vectors`` carried: the same content for every peer, with
    the peer's own pseudonym and sequence number)."""
    actor = pseudonyms.actor_url(base_url, row.pseudonym)
    sequence = pseudonyms.current_sequence(secret, row)
    return dict(wire_profile(published.vector, actor, published.updated, sequence))


async def _twins(session: AsyncSession, resident: Resident, peer: Peer) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(Twin.score, Twin.computed_at, RemoteProfile.actor_url)
        .join(RemoteProfile, RemoteProfile.id == Twin.remote_profile_id)
        .where(Twin.resident_id == resident.id, Twin.peer_id == peer.id, Twin.current())
        .order_by(Twin.score.desc(), RemoteProfile.actor_url)
    )
    return [
        {"pseudonym": actor, "score": score, "computed_at": _iso(computed)}
        for score, computed, actor in rows
    ]


async def _suggestions(
    session: AsyncSession, resident: Resident, peer: Peer
) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(Suggestion.rank, Suggestion.score, Suggestion.computed_at, RemoteProfile.actor_url)
        .join(RemoteProfile, RemoteProfile.id == Suggestion.remote_profile_id)
        .where(
            Suggestion.resident_id == resident.id,
            Suggestion.peer_id == peer.id,
            Suggestion.current(),
        )
        .order_by(Suggestion.rank)
    )
    return [
        {"rank": rank, "pseudonym": actor, "score": score, "computed_at": _iso(computed)}
        for rank, score, computed, actor in rows
    ]


async def _reports_filed(session: AsyncSession, resident: Resident) -> list[dict[str, Any]]:
    """The resident's own reports, with the copy of the reported person's messages that
    the admins see; who handled a report is an admin of this node and stays out."""
    rows = await session.scalars(
        select(Report)
        .where(Report.origin == "filed", Report.reporter_id == resident.id)
        .order_by(Report.created_at, Report.id)
    )
    return [
        {
            "reported": report.reported_actor,
            "reason": report.reason,
            "comment": report.comment,
            "messages_kept": list(report.messages),
            "state": report.state,
            "filed_at": _iso(report.created_at),
            "handled_at": _iso(report.handled_at),
        }
        for report in rows
    ]


def _profile_document(profile: Profile) -> dict[str, Any]:
    return {
        "interests": list(profile.interests),
        "occupation": profile.occupation,
        "languages": dict(profile.languages),
        "learning": list(profile.learning),
        "age_band": profile.age_band,
        "children_age_bands": list(profile.children_age_bands),
        "about": profile.about,
        "show_about": profile.show_about,
        "paused": profile.paused,
        "completed": profile.completed,
        "updated_at": _iso(profile.updated_at),
    }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
