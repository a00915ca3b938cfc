"""A report comment gets the clean-up of messages: control characters (a NUL byte,
which PostgreSQL refuses in text) are dropped, line breaks are kept."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from node.models import Report
from node.runtime import appkeys
from support.contacts import ANNA, ask, the_contact, twin_cities
from support.web import Visitor


async def test_a_report_comment_is_stored_without_control_characters(tmp_path: Path) -> None:
    async with twin_cities(tmp_path) as cities:
        await ask(cities.oldenburg, cities.anna, cities.bruno_actor)
        mine = await the_contact(cities.oldenburg, cities.anna)
        async with Visitor(cities.oldenburg) as anna:
            assert (await anna.login(ANNA)).status_code == 303
            reported = await anna.submit(
                f"/contacts/{mine.id}/report",
                {"reason": "harassment", "comment": "Er\x00 ist\x1b[31m\r\nunhöflich.\x7f"},
            )
            assert reported.status_code == 303, reported.text
        assert cities.oldenburg.app is not None
        async with cities.oldenburg.app[appkeys.DATABASE].read() as session:
            [report] = (await session.scalars(select(Report))).all()
        assert report.comment == "Er ist[31m\nunhöflich."
