"""Wording and typography in all three languages: formal German, one French term for
the partner city and one for the score, French spacing before : ; ? !, elision before
a vowel; and the product's own messages instead of the browser's (``novalidate``),
with the server checking what ``required`` and ``maxlength`` used to."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from node.models import Contact, Peer, Resident
from node.runtime import appkeys
from node.runtime.i18n import fill
from support.nodes import RunningNode
from support.web import Visitor

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "web" / "translations"
NARROW = "\u202f"


def _texts(language: str) -> list[tuple[str, str]]:
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    found = []
    for message in catalog:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        found.extend((key, text) for text in strings if text)
    return found


def test_every_form_has_novalidate() -> None:
    for template in (ROOT / "web" / "templates").rglob("*.html"):
        for form in re.findall(r"<form\b[^>]*>", template.read_text()):
            assert "novalidate" in form, f"{template.relative_to(ROOT)}: {form}"


INFORMAL = re.compile(
    r"\b(du|dich|dir|dein\w*|euch|euer|eure\w*)\b"
    r"|\b[Ii]hr (beide|habt|seid|könnt|müsst|wollt|werdet)\b"
)


def test_german_is_formal_throughout() -> None:
    informal = [(key, text) for key, text in _texts("de") if INFORMAL.search(text)]
    assert not informal, informal


def test_match_reasons_are_formal_and_french_reasons_spaced() -> None:
    from matching.explain import _WORDING

    assert _WORDING["de"].both == "Sie beide"
    assert _WORDING["fr"].colon == f"{NARROW}: "


def test_french_uses_one_term_for_the_partner_city_and_one_for_the_score() -> None:
    texts = _texts("fr")
    for key, text in texts:
        lowered = text.lower()
        assert "ville partenaire" not in lowered and "villes partenaires" not in lowered, key
        assert "ville jumelle" not in lowered and "villes jumelles" not in lowered, key
        assert "de correspondance" not in lowered, key  # the score is "affinité"
    assert any("villes jumelées" in text for _key, text in texts)
    assert dict(texts)["Affinity"] == "Affinité"


def test_french_has_a_narrow_no_break_space_before_double_punctuation() -> None:
    wrong = []
    for key, text in _texts("fr"):
        for found in re.finditer(r"[:;?!](?=\s|$|\")", text):
            before = text[found.start() - 1] if found.start() else ""
            if before != NARROW:
                wrong.append((key, text[max(0, found.start() - 20) : found.end()]))
        if re.search(r"«(?!\u202f)|(?<!\u202f)»", text):
            wrong.append((key, text))
    assert not wrong, wrong


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Anke", "d'Anke"),
        ("Oldenburg", "d'Oldenburg"),
        ("Yves", "d'Yves"),
        ("Yann", "de Yann"),
        ("Bruno", "de Bruno"),
        ("Émile", "d'Émile"),
    ],
)
def test_french_elides_de_before_a_vowel(name: str, shown: str) -> None:
    assert fill("fr", "un message de %(name)s", {"name": name}) == f"un message {shown}"
    assert fill("de", "Nachricht von %(name)s", {"name": name}) == f"Nachricht von {name}"


async def test_pages_elide_the_city_name(node: RunningNode) -> None:
    async with Visitor(node, language="fr") as visitor:
        page = (await visitor.get("/")).text
    assert "jumelage d'Oldenburg" in page and "de Oldenburg" not in page


async def _contact(node: RunningNode, email: str) -> int:
    assert node.app is not None
    async with node.app[appkeys.DATABASE].write() as session:
        resident = await session.scalar(select(Resident).where(Resident.email == email))
        assert resident is not None
        peer = Peer(actor_url="http://cholet.example/actor", origin="http://cholet.example")
        peer.name = "Cholet"
        session.add(peer)
        await session.flush()
        contact = Contact(
            resident_id=resident.id,
            peer_id=peer.id,
            local_actor=f"{node.url}/p/anna",
            remote_actor="http://cholet.example/p/bruno",
            my_consent="yes",
            their_consent="yes",
            their_name="Bruno",
        )
        session.add(contact)
        await session.flush()
        return contact.id


async def test_the_server_says_what_required_and_maxlength_said(node: RunningNode) -> None:
    async with Visitor(node, language="fr") as anna:
        await anna.signed_up("anna@example.org")
        cid = await _contact(node, "anna@example.org")
        conversation = f"/contacts/{cid}"

        empty = await anna.submit(f"{conversation}/messages", {"body": "  "}, page=conversation)
        assert empty.status_code == 400
        assert "Veuillez d'abord écrire un message." in unescape(empty.text)

        long = await anna.submit(
            f"{conversation}/messages", {"body": "x" * 5001}, page=conversation
        )
        assert long.status_code == 400
        assert "Le message est trop long (5 000 caractères au maximum)." in long.text

        report = f"/contacts/{cid}/report"
        no_reason = await anna.submit(report, {"comment": "?"}, page=report)
        assert no_reason.status_code == 400 and "Veuillez choisir un motif." in no_reason.text
        too_long = await anna.submit(report, {"reason": "spam", "comment": "x" * 2001}, page=report)
        assert too_long.status_code == 400
        assert "Le commentaire est trop long" in too_long.text
