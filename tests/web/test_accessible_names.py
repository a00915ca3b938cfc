"""Every button and link repeated on the cards of a page has an accessible name of its
own, naming the card it belongs to ("Yes, I'd like contact Suggestion 2 · 85 %
affinity In Cholet"), so that a screen reader's list of buttons is not ten times the
same words. The names are computed from the page as served, the way browsers do for
``aria-labelledby``, ``aria-label`` and text content."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from matching.profile import InterestProfile
from node.models import Contact, Peer, RemoteProfile, Resident, Suggestion, Twin, utcnow
from node.runtime import appkeys
from node.vectors.stored import stored_form
from support.nodes import RunningNode
from support.web import Visitor

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)

    def text(self) -> str:
        parts = [c if isinstance(c, str) else c.text() for c in self.children]
        return " ".join(" ".join(parts).split())


class Page(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("root", {})
        self.stack = [self.root]
        self.by_id: dict[str, Element] = {}
        self.all: list[Element] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        self.all.append(element)
        if "id" in element.attrs:
            assert element.attrs["id"] not in self.by_id, f"id {element.attrs['id']} twice"
            self.by_id[element.attrs["id"]] = element
        if tag not in VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)

    def name(self, element: Element) -> str:
        """The accessible name (the parts of accname 1.2 that these pages use)."""
        labelledby = element.attrs.get("aria-labelledby")
        if labelledby:
            return " ".join(self.by_id[ref].text() for ref in labelledby.split())
        return element.attrs.get("aria-label") or element.text()

    def controls(self, tag: str) -> list[str]:
        return [self.name(e) for e in self.all if e.tag == tag]


def _vector(n: int) -> dict[str, object]:
    return stored_form(
        InterestProfile(
            id=f"urn:x:{n}",
            kind="person",
            interests=("music_making.choir", "sport.cycling"),
            languages={"de": "native", "fr": "fluent"},
            age_band="30-39",
        )
    )


@pytest.fixture
def node_overrides() -> dict[str, dict[str, object]]:
    return {"matching": {"k_anonymity": 1}}


async def _matches_and_requests(node: RunningNode, email: str) -> None:
    """A twin and four suggestions (all at the same score), and three open requests."""
    assert node.app is not None
    async with node.app[appkeys.DATABASE].write() as session:
        resident = await session.scalar(select(Resident).where(Resident.email == email))
        assert resident is not None
        peer = Peer(actor_url="http://cholet.example/actor", origin="http://cholet.example")
        peer.name = "Cholet"
        session.add(peer)
        await session.flush()
        remotes = [
            RemoteProfile(
                peer_id=peer.id,
                actor_url=f"http://cholet.example/p/{n}",
                vector=_vector(n),
                updated=utcnow(),
            )
            for n in range(8)
        ]
        session.add_all(remotes)
        await session.flush()
        session.add(
            Twin(
                resident_id=resident.id, peer_id=peer.id, remote_profile_id=remotes[0].id, score=0.8
            )
        )
        for rank, remote in enumerate(remotes[1:5]):
            session.add(
                Suggestion(
                    resident_id=resident.id,
                    peer_id=peer.id,
                    remote_profile_id=remote.id,
                    rank=rank,
                    score=0.8,
                )
            )
        for n, remote in enumerate(remotes[5:]):
            session.add(
                Contact(
                    resident_id=resident.id,
                    peer_id=peer.id,
                    local_actor=f"{node.url}/p/me",
                    remote_actor=remote.actor_url,
                    their_consent="yes",
                    their_follow_id=f"http://cholet.example/activities/{n}",
                    their_consent_at=utcnow(),
                )
            )


def _unique(names: list[str], what: str) -> None:
    repeated = {name for name in names if names.count(name) > 1}
    assert not repeated, f"{what} named alike: {repeated}"


@pytest.mark.parametrize("language", ["en", "de", "fr"])
async def test_twin_and_request_cards_name_their_buttons(node: RunningNode, language: str) -> None:
    async with Visitor(node, language=language) as anna:
        await anna.with_profile("anna@example.org")
        await _matches_and_requests(node, "anna@example.org")
        twin_page = Page((await anna.get("/twin")).text)
        requests_page = Page((await anna.get("/contacts/requests")).text)
    ask = {
        "en": "Yes, I'd like contact",
        "de": "Ja, ich möchte Kontakt",
        "fr": "Oui, je souhaite le contact",
    }[language]

    asking = [name for name in twin_page.controls("button") if name.startswith(ask)]
    assert len(asking) == 5  # the twin and four suggestions
    _unique(twin_page.controls("button"), "buttons on the twin page")
    assert all("Cholet" in name and "%" in name for name in asking)

    buttons = requests_page.controls("button")
    assert len([name for name in buttons if name.startswith(ask)]) == 3
    _unique(buttons, "buttons on the requests page")
    links = requests_page.controls("a")
    blocking = [name for name in links if name.startswith(("Block", "Blockieren", "Bloquer"))]
    assert len(blocking) == 3
    _unique(
        blocking + [n for n in links if n.startswith(("Report", "Melden", "Signaler"))], "links"
    )
