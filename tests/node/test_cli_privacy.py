"""``zwilling privacy report`` against a real node database: residents saved through the
profile service (so the real publication runs), then the report read back as city IT
reads it, as a table and as JSON."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from node.accounts.accounts import Resident
from node.models import utcnow
from node.peers import registry
from node.profiles import profiles
from node.profiles.profiles import ProfileData
from node.runtime.config import load_config
from node.runtime.db import Database
from node.runtime.keys import load_keys
from node.vectors.activities import publisher_for
from tests.node.test_cli import CONFIG, Zwilling, zwilling  # noqa: F401  (fixture)


def _person(occupation: str, band: str, languages: dict[str, str]) -> ProfileData:
    return ProfileData(
        interests=("sport.cycling", "music_making.choir"),
        occupation=occupation,
        languages=languages,
        age_band=band,
    )


# k = 5 (config/oldenburg.toml): six alike; five alike but for an age band too rare to
# leave; one loner whose combination is theirs alone even with nothing left in it.
PLAN = (
    [_person("23", "30-39", {"de": "native", "fr": "B2"})] * 6
    + [_person("23", "40-49", {"de": "native", "fr": "C1"})] * 3
    + [_person("23", "50-59", {"de": "native", "fr": "B1"})] * 2
    + [_person("71", "70-79", {"de": "native", "ti": "native"})]
)


async def _populate(data_dir: Path) -> str:
    config = load_config(CONFIG, data_dir=data_dir)
    publisher = publisher_for(config, load_keys(config))
    db = Database.open(config.database_url)
    try:
        async with db.write() as session:
            peer = await registry.upsert(session, config.peers[0].actor_url, source="config")
            actor = peer.actor_url
        for number, data in enumerate(PLAN):
            async with db.write() as session:
                resident = Resident(
                    email=f"resident-{number}@example.org",
                    password_hash="!",
                    display_name=f"Resident {number}",
                    kind="person",
                    language="de",
                    email_verified_at=utcnow(),
                )
                session.add(resident)
                await session.flush()
                await profiles.save_profile(session, resident, data, publisher)
    finally:
        await db.dispose()
    return actor


def test_privacy_report_per_peer(tmp_path: Path, zwilling: Zwilling) -> None:  # noqa: F811
    assert zwilling("init", data_dir=tmp_path).returncode == 0
    peer = asyncio.run(_populate(tmp_path))

    table = zwilling("privacy", "report", data_dir=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "k = 5; 12 residents take part" in table.stdout
    assert f"peer {peer}" in table.stdout
    assert "withheld             1" in table.stdout  # the loner
    assert "(below k: 0)" in table.stdout
    assert "values held by fewer than 5: none" in table.stdout

    result = zwilling("privacy", "report", "--json", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["k"] == 5 and report["residents"] == 12
    (entry,) = report["peers"]
    figures = entry["figures"]
    assert entry["peer"] == peer
    assert (figures["published"], figures["withheld"]) == (11, 1)
    # CEFR levels are coarsened for everybody (not counted as generalised); the five
    # lose their age band.
    assert figures["generalised"] == 5
    classes = {int(size): residents for size, residents in figures["combination_classes"].items()}
    assert classes == {5: 5, 6: 6}
    assert figures["rare_values"] == []


def test_privacy_report_without_peers(tmp_path: Path, zwilling: Zwilling) -> None:  # noqa: F811
    assert zwilling("init", data_dir=tmp_path).returncode == 0
    result = zwilling("privacy", "report", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no peers: nothing leaves this node" in result.stdout


@pytest.mark.parametrize("argv", [["privacy", "--help"], ["privacy", "report", "--help"]])
def test_privacy_help(argv: list[str], tmp_path: Path, zwilling: Zwilling) -> None:  # noqa: F811
    result = zwilling(*argv, data_dir=tmp_path)
    assert result.returncode == 0
    assert "peer" in result.stdout
