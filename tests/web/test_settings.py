"""Settings: preferences, the data export (one's own data only) and deleting the
account (every row of the resident, in every table)."""

from __future__ import annotations

import json

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection

from node.models import Base, LoginThrottle, Profile, Resident
from node.runtime import appkeys
from support.nodes import RunningNode
from support.web import PASSWORD, Visitor


async def test_preferences_are_saved(node: RunningNode) -> None:
    async with Visitor(node) as anna:
        await anna.with_profile("anna@example.org")
        response = await anna.submit(
            "/settings/preferences", {"language": "en", "paused": "1"}, page="/settings"
        )
        assert response.status_code == 303
        page = await anna.get("/settings?saved=1")
        assert '<html lang="en">' in page.text and "Your settings have been saved." in page.text
        dashboard = (await anna.get("/dashboard")).text
        assert "Matching is paused" in dashboard
    async with node.app[appkeys.DATABASE].write() as session:
        resident = await session.scalar(select(Resident))
        assert resident is not None
        assert resident.language == "en" and resident.notify_messages is False
        profile = await session.get(Profile, resident.id)
        assert profile is not None and profile.paused and profile.completed


async def test_export_has_own_data_and_nothing_else(node: RunningNode) -> None:
    async with Visitor(node) as bert:
        await bert.with_profile("bert@example.org", about="Bert's own secret words")
    async with Visitor(node) as anna:
        await anna.with_profile("anna@example.org", about="Annas Text")
        response = await anna.get("/settings/export")
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("application/json")
        assert "attachment" in response.headers["Content-Disposition"]
        document = json.loads(response.text)
    assert document["account"]["email"] == "anna@example.org"
    assert document["profile"]["about"] == "Annas Text"
    assert document["profile"]["interests"] == ["music_making.choir", "sport.cycling"]
    assert document["sessions"] and document["mailed_links"]
    assert document["portal"]["city"] == "Oldenburg"
    flat = response.text
    assert "bert" not in flat.lower() and "secret words" not in flat
    assert "$argon2" not in flat


async def test_export_needs_login(node: RunningNode) -> None:
    async with Visitor(node) as stranger:
        response = await stranger.get("/settings/export")
        assert response.status_code == 303 and response.headers["Location"].startswith("/login")


def _rows_of(connection: Connection, resident_id: int, email: str) -> dict[str, int]:
    """Rows per table that point at the resident (or carry its e-mail address)."""
    found: dict[str, int] = {}
    for table in Base.metadata.sorted_tables:
        columns = inspect(connection).get_columns(table.name)
        names = {column["name"] for column in columns}
        conditions = [
            f"{fk.parent.name} = :id"
            for fk in table.foreign_keys
            if fk.column.table.name == "residents"
        ]
        if table.name == "residents":
            conditions.append("id = :id")
        if "email" in names:
            conditions.append("email = :email")
        if not conditions:
            continue
        query = text(f"SELECT COUNT(*) FROM {table.name} WHERE {' OR '.join(conditions)}")  # noqa: S608
        found[table.name] = connection.execute(
            query, {"id": resident_id, "email": email}
        ).scalar_one()
    return found


async def test_deleting_the_account_removes_every_row(node: RunningNode) -> None:
    async with Visitor(node) as bert:
        await bert.with_profile("bert@example.org")
    async with Visitor(node) as anna:
        await anna.with_profile("anna@example.org")
        await anna.submit("/password/forgotten", {"email": "anna@example.org"}, page="/")
        async with Visitor(node) as guesser:
            await guesser.login("anna@example.org", "a wrong password")
        engine = node.app[appkeys.DATABASE].engine
        async with engine.connect() as connection:
            resident_id = (
                await connection.execute(
                    text("SELECT id FROM residents WHERE email = 'anna@example.org'")
                )
            ).scalar_one()
            before = await connection.run_sync(_rows_of, resident_id, "anna@example.org")
        assert before["residents"] == 1 and before["profiles"] == 1
        assert before["login_sessions"] >= 1 and before["account_tokens"] >= 2
        assert before["login_throttles"] == 1

        response = await anna.submit(
            "/settings/delete", {"password": PASSWORD, "confirm": "1"}, page="/settings"
        )
        assert response.status_code == 200 and "Konto gelöscht" in response.text
        assert (await anna.get("/dashboard")).status_code == 303

    async with engine.connect() as connection:
        after = await connection.run_sync(_rows_of, resident_id, "anna@example.org")
    assert set(after) == set(before)
    assert all(count == 0 for count in after.values()), after
    async with node.app[appkeys.DATABASE].write() as session:
        remaining = list(await session.scalars(select(Resident.email)))
        assert remaining == ["bert@example.org"]
        assert await session.get(LoginThrottle, "anna@example.org") is None
    async with Visitor(node) as anna_again:
        assert (await anna_again.login("anna@example.org")).status_code == 400
    async with Visitor(node) as bert:
        assert (await bert.login("bert@example.org")).status_code == 303
