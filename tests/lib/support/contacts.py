"""Two cities with one resident each, published to each other, ready to get in contact;
and the means to act for them (services, pages) or to speak as a faulty peer
(hand-signed activities)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from node.accounts import passwords
from node.contacts import consent as contacts
from node.matches.state import match_settings
from node.models import Contact, Message, Resident, utcnow
from node.profiles import profiles
from node.runtime import appkeys
from node.vectors.appkeys import PUBLISHER
from tests.lib.support.federation import FAST, signed, trusting, wait_for
from tests.lib.support.nodes import RunningNode, node_pair, wake
from tests.lib.support.population import person, pseudonym_urls, remote_vectors
from tests.lib.support.web import PASSWORD

ANNA = "anna@oldenburg.example"
BRUNO = "bruno@cholet.example"
# Strings that must never cross before consent (and do cross after it, where shown).
ANNA_NAME, ANNA_ABOUT = "Annaqxname Zwilling", "Ich qxabout fahre gern Rad nach Cholet."
BRUNO_NAME, BRUNO_ABOUT = "Brunoqxname Jumeau", "Je qxabout chante dans une chorale."


@dataclass
class Cities:
    oldenburg: RunningNode
    cholet: RunningNode
    anna: int
    bruno: int
    anna_actor: str  # Anna's pseudonym towards Cholet
    bruno_actor: str  # Bruno's pseudonym towards Oldenburg

    @property
    def base(self) -> str:
        return self.oldenburg.url


async def add_person(
    node: RunningNode,
    email: str,
    name: str,
    about: str,
    languages: dict[str, str],
    *,
    show_about: bool = True,
) -> int:
    """A confirmed account that can log in (password ``PASSWORD``) with a saved profile."""
    assert node.app is not None
    async with node.app[appkeys.DATABASE].write() as session:
        resident = Resident(
            email=email,
            password_hash=await passwords.hash_password(PASSWORD),
            display_name=name,
            kind="person",
            language=node.config.node.default_language,
            email_verified_at=utcnow(),
        )
        session.add(resident)
        await session.flush()
        data = replace(
            person(["sport.cycling", "music_making.choir"], languages=languages, about=about),
            show_about=show_about,
        )
        await profiles.save_profile(session, resident, data, node.app[PUBLISHER])
        resident_id = resident.id
    return resident_id


@asynccontextmanager
async def twin_cities(
    tmp_path: Path,
    *,
    pages: bool = True,
    overrides: dict[str, Any] | None = None,
    bruno_shows_about: bool = True,
) -> AsyncIterator[Cities]:
    """Oldenburg with Anna, Cholet with Bruno; each node holds the other's vector."""
    settings = {**FAST, **(overrides or {})}
    async with node_pair(tmp_path, overrides=settings, extensions=None if pages else []) as (
        oldenburg,
        cholet,
    ):
        await wait_for(lambda: trusting(oldenburg, cholet), what="Oldenburg trusts Cholet")
        await wait_for(lambda: trusting(cholet, oldenburg), what="Cholet trusts Oldenburg")
        anna = await add_person(
            oldenburg, ANNA, ANNA_NAME, ANNA_ABOUT, {"de": "native", "fr": "B1"}
        )
        bruno = await add_person(
            cholet,
            BRUNO,
            BRUNO_NAME,
            BRUNO_ABOUT,
            {"fr": "native", "de": "B1"},
            show_about=bruno_shows_about,
        )
        anna_actor = (await pseudonym_urls(oldenburg, anna))[cholet.config.actor_url]
        bruno_actor = (await pseudonym_urls(cholet, bruno))[oldenburg.config.actor_url]

        async def exchanged() -> bool:
            for node in (oldenburg, cholet):
                assert node.app is not None
                wake(node.app)
            return anna_actor in await remote_vectors(cholet) and bruno_actor in (
                await remote_vectors(oldenburg)
            )

        await wait_for(exchanged, what="vectors exchanged")
        yield Cities(oldenburg, cholet, anna, bruno, anna_actor, bruno_actor)


async def act(
    node: RunningNode, action: Callable[..., Awaitable[Any]], *args: Any, **kw: Any
) -> Any:
    """Run a service function for a resident in one transaction, as a page does; the
    first positional argument after the session is the resident id."""
    assert node.app is not None
    resident_id, *rest = args
    async with node.app[appkeys.DATABASE].write() as session:
        resident = await session.get(Resident, resident_id)
        assert resident is not None
        result = await action(session, node.url, resident, *rest, **kw)
    return result


async def ask(node: RunningNode, resident_id: int, remote_actor: str) -> Contact:
    """The resident asks for contact, as the contact button does: under the node's
    configured gates."""
    gates = match_settings(node.config).kind_gates
    result: Contact = await act(
        node, contacts.request_contact, resident_id, remote_actor, kind_gates=gates
    )
    return result


async def contacts_of(node: RunningNode, resident_id: int) -> list[Contact]:
    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as session:
        return list(
            (
                await session.scalars(
                    select(Contact).where(Contact.resident_id == resident_id).order_by(Contact.id)
                )
            ).all()
        )


async def the_contact(node: RunningNode, resident_id: int) -> Contact:
    found = await contacts_of(node, resident_id)
    assert len(found) == 1, found
    return found[0]


async def until_contact(
    node: RunningNode, resident_id: int, test: Callable[[Contact], bool], what: str
) -> Contact:
    """Wait until the resident's one contact passes ``test`` (deliveries are nudged)."""

    async def ok() -> bool:
        for each in (node,):
            assert each.app is not None
            wake(each.app)
        found = await contacts_of(node, resident_id)
        return len(found) == 1 and test(found[0])

    await wait_for(ok, what=what)
    return await the_contact(node, resident_id)


async def messages_of(node: RunningNode, contact_id: int) -> list[Message]:
    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as session:
        return list(
            (
                await session.scalars(
                    select(Message).where(Message.contact_id == contact_id).order_by(Message.id)
                )
            ).all()
        )


# Speaking as a (faulty) peer: activities signed with that node's own key.


def activity_id(node: RunningNode) -> str:
    return f"{node.url}/activities/{uuid.uuid4()}"


def moment(offset_seconds: float = 0.0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=offset_seconds)).isoformat()


def hand_made(
    sender: RunningNode, kind: str, actor: str, target: Any, to: str, **extra: Any
) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": activity_id(sender),
        "type": kind,
        "actor": actor,
        "to": [to],
        "published": extra.pop("published", moment()),
        "object": target,
        **extra,
    }


async def post_as(
    sender: RunningNode, receiver: RunningNode, activity: dict[str, Any]
) -> httpx.Response:
    """POST ``activity`` to ``receiver``'s inbox, signed with ``sender``'s key."""
    url = f"{receiver.url}/inbox"
    headers, body = signed(url, activity, signer=sender)
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(url, content=body, headers=headers)


async def add_account(node: RunningNode, email: str, *, role: str = "resident") -> int:
    """A confirmed account without a profile (an admin, say) that can log in."""
    assert node.app is not None
    async with node.app[appkeys.DATABASE].write() as session:
        resident = Resident(
            email=email,
            password_hash=await passwords.hash_password(PASSWORD),
            display_name=email.split("@")[0].title(),
            kind="person",
            role=role,
            language=node.config.node.default_language,
            email_verified_at=utcnow(),
        )
        session.add(resident)
        await session.flush()
        return resident.id
