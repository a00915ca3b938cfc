"""The start page and the twin page say what is true: partner cities by their city
name (never an address), whether each is connected, not connected yet or temporarily
unreachable, and counts that say what they count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from matching.profile import InterestProfile
from node.models import Peer, PeerKey, RemoteProfile, Resident, Suggestion, Twin, utcnow
from node.runtime import appkeys
from node.vectors.stored import stored_form
from support.nodes import RunningNode
from support.web import Visitor

UNNAMED = "http://unnamed.example/actor"


@pytest.fixture
def node_overrides() -> dict[str, dict[str, object]]:
    return {"matching": {"k_anonymity": 1}}  # a lone resident's profile is shared


def _vector(kind: str, n: int) -> dict[str, object]:
    profile = InterestProfile(
        id=f"urn:x:{n}",
        kind=kind,  # type: ignore[arg-type]
        interests=("music_making.choir", "sport.cycling"),
        languages={"de": "native", "fr": "fluent"},
        age_band="30-39" if kind == "person" else None,
    )
    return stored_form(profile)


async def _partners(node: RunningNode, resident_email: str) -> None:
    """Cholet connected (with a twin and three suggestions, one of them the twin),
    Angers trusted but failing, and one partner not fetched nor pinned yet."""
    assert node.app is not None
    async with node.app[appkeys.DATABASE].write() as session:
        resident = await session.scalar(select(Resident).where(Resident.email == resident_email))
        assert resident is not None
        cholet = Peer(actor_url="http://cholet.example/actor", origin="http://cholet.example")
        cholet.name, cholet.state = "Cholet", "reachable"
        angers = Peer(actor_url="http://angers.example/actor", origin="http://angers.example")
        angers.name, angers.state = "Angers", "failing"
        angers.failing_since = utcnow() - timedelta(hours=2)
        unnamed = Peer(actor_url=UNNAMED, origin="http://unnamed.example")
        session.add_all([cholet, angers, unnamed])
        await session.flush()
        for number, peer in enumerate((cholet, angers)):
            session.add(
                PeerKey(
                    peer_id=peer.id,
                    key_id=f"{peer.actor_url}#main-key",
                    algorithm="rsa",
                    public_key_pem="-",
                    fingerprint=f"SHA256:{number}",
                )
            )
        remotes = []
        for n in range(5):
            kind = "person" if n < 4 else "family"
            remote = RemoteProfile(
                peer_id=cholet.id,
                actor_url=f"http://cholet.example/p/{n}",
                vector=_vector(kind, n),
                updated=utcnow(),
            )
            remotes.append(remote)
        session.add_all(remotes)
        await session.flush()
        session.add(
            Twin(
                resident_id=resident.id,
                peer_id=cholet.id,
                remote_profile_id=remotes[0].id,
                score=0.9,
            )
        )
        for rank, remote in enumerate(remotes[:3]):
            session.add(
                Suggestion(
                    resident_id=resident.id,
                    peer_id=cholet.id,
                    remote_profile_id=remote.id,
                    rank=rank,
                    score=0.9 - rank / 10,
                )
            )


async def test_start_page_names_cities_states_and_counts(node: RunningNode) -> None:
    async with Visitor(node, language="en") as anna:
        await anna.with_profile("anna@example.org")
        await _partners(node, "anna@example.org")
        page = (await anna.get("/dashboard")).text
    assert "Cholet:" in page and "Angers:" in page
    assert "A partner city:" in page  # not fetched yet: no name, and no address
    assert "unnamed.example" not in page and "cholet.example" not in page
    assert page.count("Not connected yet.") == 1
    assert "have not yet confirmed each other's keys" in page
    assert page.count("Temporarily unreachable.") == 1
    assert "wait here and are sent as soon as it answers again" in page
    assert page.count("Connected.") == 1
    # Four profiles of a person (the family is another kind), the twin apart.
    assert "There are 4 profiles of your kind from the partner cities" in page
    assert "You have a twin and 2 other suggestions." in page


async def test_twin_page_names_the_city_and_says_when_it_is_unreachable(
    node: RunningNode,
) -> None:
    async with Visitor(node, language="de") as anna:
        await anna.with_profile("anna@example.org")
        await _partners(node, "anna@example.org")
        page = (await anna.get("/twin")).text
    assert "In Cholet" in page and "In Angers" in page and "In einer Partnerstadt" in page
    assert "unnamed.example" not in page
    assert page.count("Noch nicht verbunden.") == 1
    assert page.count("Vorübergehend nicht erreichbar.") == 1
    assert "Zwilling" in page and "Vorschlag 1" in page and "Vorschlag 2" in page
    assert "Vorschlag 3" not in page  # the twin is not counted again among the suggestions


async def test_french_start_page_uses_the_one_term_and_typography(node: RunningNode) -> None:
    async with Visitor(node, language="fr") as anna:
        await anna.with_profile("anna@example.org")
        await _partners(node, "anna@example.org")
        page = (await anna.get("/dashboard")).text
    assert "Villes jumelées\u202f:" in page
    assert "Cholet\u202f:" in page and "Pas encore connectée." in page
    assert "ville partenaire" not in page and "villes jumelles" not in page
