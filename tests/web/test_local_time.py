"""Dates and times on the pages are in the city's own time zone (``node.time_zone``),
written the way the reader's language writes them; nobody has to convert from UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import jinja2
import pytest
from sqlalchemy import select

from node.models import Contact, Message, Peer, Resident
from node.runtime import appkeys
from node.runtime.config import ConfigError, load_config
from support.nodes import RunningNode
from support.web import Visitor
from web.i18n import local_time

ROOT = Path(__file__).resolve().parents[2]
MOMENT = datetime(2026, 12, 1, 18, 5, tzinfo=UTC)  # 19:05 in Berlin and Paris


@pytest.fixture
def node_overrides() -> dict[str, dict[str, object]]:
    return {"node": {"time_zone": "Europe/Paris"}}


@pytest.mark.parametrize(
    ("lang", "zone", "shown"),
    [
        ("de", "Europe/Berlin", "01.12.2026, 19:05"),
        ("fr", "Europe/Paris", "1 déc. 2026, 19:05"),
        ("en", "Europe/Berlin", "Dec 1, 2026, 7:05\u202fPM"),
        ("de", "America/New_York", "01.12.2026, 13:05"),
    ],
)
def test_filter_writes_local_time_in_the_readers_language(lang: str, zone: str, shown: str) -> None:
    environment = jinja2.Environment(autoescape=True)
    environment.filters["local_time"] = local_time
    template = environment.from_string("{{ moment | local_time }}")
    assert template.render(moment=MOMENT, lang=lang, time_zone=zone) == shown


def test_shipped_configs_name_their_time_zone() -> None:
    assert load_config(ROOT / "config" / "oldenburg.toml", environ={}).node.time_zone == (
        "Europe/Berlin"
    )
    assert load_config(ROOT / "config" / "cholet.toml", environ={}).node.time_zone == (
        "Europe/Paris"
    )


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "CEST+2"])
def test_an_unknown_time_zone_is_a_one_line_config_error(tmp_path: Path, zone: str) -> None:
    text = (ROOT / "config" / "oldenburg.toml").read_text()
    path = tmp_path / "node.toml"
    path.write_text(text.replace('time_zone = "Europe/Berlin"', f'time_zone = "{zone}"'))
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert "node.time_zone: " in str(caught.value) and "IANA time zone" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_no_template_shows_utc_or_raw_timestamps() -> None:
    for template in (ROOT / "web" / "templates").rglob("*.html"):
        text = template.read_text()
        assert "strftime" not in text, template
        assert not re.search(r"\bUTC\b", text), template
        # An ISO timestamp only as the machine-readable datetime attribute.
        attributes = re.findall(r'datetime="\{\{[^}]*isoformat\(\) \}\}"', text)
        assert len(attributes) == text.count("isoformat()"), template


async def test_a_message_shows_its_local_time(node: RunningNode) -> None:
    async with Visitor(node, language="fr") as anna:
        await anna.signed_up("anna@example.org")
        assert node.app is not None
        async with node.app[appkeys.DATABASE].write() as session:
            resident = await session.scalar(
                select(Resident).where(Resident.email == "anna@example.org")
            )
            assert resident is not None
            peer = Peer(actor_url="http://cholet.example/actor", origin="http://cholet.example")
            session.add(peer)
            await session.flush()
            contact = Contact(
                resident_id=resident.id,
                peer_id=peer.id,
                local_actor=f"{node.url}/p/anna",
                remote_actor="http://cholet.example/p/bruno",
                my_consent="yes",
                their_consent="yes",
                mutual_since=MOMENT,
                their_name="Bruno",
            )
            session.add(contact)
            await session.flush()
            session.add(
                Message(
                    contact_id=contact.id,
                    direction="in",
                    activity_id="http://cholet.example/activities/1",
                    note_id="http://cholet.example/notes/1",
                    body="Bonjour !",
                    created_at=MOMENT,
                )
            )
            contact_id = contact.id
        page = (await anna.get(f"/contacts/{contact_id}")).text
    assert "1 déc. 2026, 19:05</time>" in page
    assert 'datetime="2026-12-01T18:05:00+00:00"' in page
    assert "UTC" not in page
