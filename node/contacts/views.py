"""What the contact pages show: requests received and sent, contacts with unread
counts, and — before consent — only what the two shared vectors say about the other
(kind, shared interests, languages, score), in the viewer's language.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from matching.explain import explain
from matching.languages import load_languages
from matching.occupations import load_occupations
from matching.profile import InterestProfile
from matching.score import score
from matching.taxonomy import load_taxonomy
from node.contacts.consent import standing, still_open
from node.matches.state import MatchingState
from node.models import (
    Contact,
    Message,
    Peer,
    PublishedVector,
    RemoteProfile,
    Resident,
    Suggestion,
    Twin,
)
from node.vectors.stored import stored_profile


@dataclass(frozen=True, slots=True)
class PairSummary:
    kind: str | None
    shared_interests: tuple[str, ...]
    languages: tuple[tuple[str, str], ...]
    explanation: str | None
    score: float | None


@dataclass(frozen=True, slots=True)
class ContactView:
    contact: Contact
    standing: str
    summary: PairSummary | None
    unread: int = 0
    last_message_at: datetime | None = None

    @property
    def id(self) -> int:
        return self.contact.id


Scorer = Callable[[int, InterestProfile, InterestProfile], float | None]


def pair_scorer(state: MatchingState) -> Scorer:
    """Score any pair with the weights of the node's last matching run (for a request
    from someone outside the resident's top suggestions); None before the first run."""

    def score_pair(peer_id: int, mine: InterestProfile, other: InterestProfile) -> float | None:
        index = state.peers.get(peer_id)
        if index is None:
            return None
        try:
            return score(mine, other, index.weights, state.settings.kind_gates)
        except (KeyError, IndexError, ValueError):
            return None  # a code newer than the last run: shown without a score

    return score_pair


async def summary(
    session: AsyncSession,
    resident: Resident,
    remote_actor: str,
    lang: str,
    scorer: Scorer | None = None,
) -> PairSummary | None:
    """The other's shared vector against the resident's own, or None if it is gone."""
    remote = await session.scalar(
        select(RemoteProfile).where(RemoteProfile.actor_url == remote_actor)
    )
    if remote is None:
        return None
    other = stored_profile(remote.vector, remote.actor_url)
    languages = load_languages()
    spoken = tuple(
        (languages.label(code, lang) if languages.is_known(code) else code, level)
        for code, level in sorted(other.languages.items())
    )
    mine = await session.get(PublishedVector, resident.id)
    viewer = stored_profile(mine.vector, "self") if mine is not None else None
    text: str | None = None
    shared: tuple[str, ...] = ()
    if viewer is not None:
        explanation = explain(
            viewer,
            other,
            lang,
            taxonomy=load_taxonomy(),
            occupations=load_occupations(),
            languages=languages,
        )
        text, shared = explanation.text, explanation.shared_interests
    value = await session.scalar(
        select(Suggestion.score).where(
            Suggestion.resident_id == resident.id,
            Suggestion.remote_profile_id == remote.id,
            Suggestion.current(),
        )
    )
    if value is None:
        value = await session.scalar(
            select(Twin.score).where(
                Twin.resident_id == resident.id,
                Twin.remote_profile_id == remote.id,
                Twin.current(),
            )
        )
    if value is None and scorer is not None and viewer is not None:
        value = scorer(remote.peer_id, viewer, other)
    return PairSummary(
        kind=other.kind,
        shared_interests=shared,
        languages=spoken,
        explanation=text,
        score=value,
    )


_MESSAGE_FIGURES = (
    select(
        Message.contact_id,
        func.max(Message.created_at),
        func.sum(case((and_(Message.direction == "in", Message.read_at.is_(None)), 1), else_=0)),
    )
    .where(Message.contact_id.in_(bindparam("contacts", expanding=True)))
    .group_by(Message.contact_id)
)
"""The last message and the unread count per contact; built once (the contacts page
asks it at every view)."""


async def _views(
    session: AsyncSession,
    resident: Resident,
    condition: ColumnElement[bool],
    lang: str,
    *,
    with_summary: bool,
    scorer: Scorer | None = None,
) -> list[ContactView]:
    rows: Sequence[Contact] = (
        await session.scalars(
            select(Contact)
            .where(Contact.resident_id == resident.id, condition)
            .order_by(Contact.updated_at.desc(), Contact.id.desc())
            .limit(500)
        )
    ).all()
    unread: dict[int, int] = {}
    latest: dict[int, datetime] = {}
    if rows:
        figures = await session.execute(_MESSAGE_FIGURES, {"contacts": [c.id for c in rows]})
        for contact_id, last, count in figures:
            latest[contact_id] = last
            if count:
                unread[contact_id] = int(count)
    views = []
    for contact in rows:
        about = (
            await summary(session, resident, contact.remote_actor, lang, scorer)
            if with_summary
            else None
        )
        views.append(
            ContactView(
                contact=contact,
                standing=standing(contact),
                summary=about,
                unread=unread.get(contact.id, 0),
                last_message_at=latest.get(contact.id),
            )
        )
    return views


async def received_requests(
    session: AsyncSession, resident: Resident, lang: str, scorer: Scorer | None = None
) -> list[ContactView]:
    """Requests the resident received (their ``Follow``), answered or not."""
    condition = Contact.their_follow_id.is_not(None)
    return await _views(session, resident, condition, lang, with_summary=True, scorer=scorer)


async def sent_requests(
    session: AsyncSession, resident: Resident, lang: str, scorer: Scorer | None = None
) -> list[ContactView]:
    condition = Contact.my_follow_id.is_not(None)
    return await _views(session, resident, condition, lang, with_summary=True, scorer=scorer)


async def contact_list(session: AsyncSession, resident: Resident) -> list[ContactView]:
    """Everyone the resident has been in contact with, including ended contacts (the
    page says why they ended: blocked, withdrawn, account deleted)."""
    return await _views(
        session, resident, Contact.mutual_since.is_not(None), "en", with_summary=False
    )


@dataclass(frozen=True, slots=True)
class KnownAs:
    """The other side of a pair as the resident knows them: by the name their contact
    revealed, or else only by what the anonymous profile says (``summary``) and the
    partner city (``city``, None before its name is known). Never more than consent
    revealed: a name appears only if the other sent it."""

    contact: Contact
    city: str | None
    summary: PairSummary | None

    @property
    def id(self) -> int:
        return self.contact.id


async def _known_as(
    session: AsyncSession, resident: Resident, contact: Contact, city: str | None, lang: str
) -> KnownAs:
    about = (
        None if contact.their_name else await summary(session, resident, contact.remote_actor, lang)
    )
    return KnownAs(contact=contact, city=city, summary=about)


async def known_as(
    session: AsyncSession, resident: Resident, contact_id: int, lang: str
) -> KnownAs | None:
    """One of the resident's own pairs (None for anyone else's, or none at all)."""
    row = (
        await session.execute(
            select(Contact, Peer.name)
            .join(Peer, Peer.id == Contact.peer_id)
            .where(Contact.id == contact_id, Contact.resident_id == resident.id)
        )
    ).first()
    if row is None:
        return None
    return await _known_as(session, resident, row[0], row[1], lang)


async def blocked_list(session: AsyncSession, resident: Resident, lang: str) -> list[KnownAs]:
    """Everyone the resident blocked, newest first (for the settings, to unblock)."""
    rows = (
        await session.execute(
            select(Contact, Peer.name)
            .join(Peer, Peer.id == Contact.peer_id)
            .where(Contact.resident_id == resident.id, Contact.blocked_by_me.is_(True))
            .order_by(Contact.updated_at.desc(), Contact.id.desc())
            .limit(500)
        )
    ).all()
    return [await _known_as(session, resident, contact, city, lang) for contact, city in rows]


async def own_contact(session: AsyncSession, resident: Resident, contact_id: int) -> Contact | None:
    """One of the resident's own contacts, read without a row lock (None for anyone
    else's)."""
    contact = await session.get(Contact, contact_id)
    return contact if contact is not None and contact.resident_id == resident.id else None


_OPEN_REQUESTS = select(func.count(Contact.id)).where(
    Contact.resident_id == bindparam("resident"),
    Contact.their_follow_id.is_not(None),
    Contact.their_consent == "yes",
    Contact.my_consent == "none",
    still_open(),
)
"""Built once: the contacts page asks it at every view."""


async def open_request_count(session: AsyncSession, resident: Resident) -> int:
    """Requests waiting for the resident's answer (for a badge in the navigation)."""
    return int(await session.scalar(_OPEN_REQUESTS, {"resident": resident.id}) or 0)


_CONTACTS_OF = (
    select(Contact).where(Contact.resident_id == bindparam("resident")).order_by(Contact.id)
)
"""Built once: the suggestion pages ask it at every view."""


async def standings_for(session: AsyncSession, resident: Resident) -> dict[str, ContactView]:
    """The resident's contacts by the other's pseudonym (for the twin and suggestion
    pages: show where a pair stands instead of the "ask for contact" button)."""
    rows = (await session.scalars(_CONTACTS_OF, {"resident": resident.id})).all()
    return {
        contact.remote_actor: ContactView(contact=contact, standing=standing(contact), summary=None)
        for contact in rows
    }


async def export_for(session: AsyncSession, resident: Resident) -> list[dict[str, Any]]:
    """The resident's contacts and messages for their data export (GDPR article 15)."""
    rows = (
        await session.scalars(
            select(Contact).where(Contact.resident_id == resident.id).order_by(Contact.id)
        )
    ).all()
    result = []
    for contact in rows:
        written = (
            await session.scalars(
                select(Message)
                .where(Message.contact_id == contact.id)
                .order_by(Message.created_at, Message.id)
            )
        ).all()
        result.append(
            {
                "my_pseudonym": contact.local_actor,
                "other_pseudonym": contact.remote_actor,
                "state": standing(contact),
                "my_consent": contact.my_consent,
                "their_consent": contact.their_consent,
                "their_name": contact.their_name,
                "their_about": contact.their_about,
                "since": contact.created_at.isoformat(),
                "messages": [
                    {
                        "direction": message.direction,
                        "text": message.body,
                        "written": message.created_at.isoformat(),
                    }
                    for message in written
                ],
            }
        )
    return result
