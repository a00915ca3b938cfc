"""Contact requests, reports and messages within hourly limits: one more than
allowed is answered 429 with Retry-After, and nothing is asked, filed or sent."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from node.contacts.consent import is_mutual
from node.models import Report
from node.runtime import appkeys
from support.contacts import (
    ANNA,
    BRUNO,
    BRUNO_NAME,
    contacts_of,
    messages_of,
    twin_cities,
    until_contact,
)
from support.federation import wait_for
from support.web import Visitor

LIMITS = {
    "limits": {
        "contact_requests_per_resident_per_hour": 1,
        "reports_per_resident_per_hour": 1,
        "messages_per_resident_per_hour": 2,
    }
}


async def test_requests_reports_and_messages_over_the_limit_get_429(tmp_path: Path) -> None:
    async with (
        twin_cities(tmp_path, overrides=LIMITS) as cities,
        Visitor(cities.oldenburg, "en") as anna,
        Visitor(cities.cholet, "fr") as bruno,
    ):
        assert (await anna.login(ANNA)).status_code == 303
        assert (await bruno.login(BRUNO)).status_code == 303

        async def suggested() -> bool:
            return cities.bruno_actor in (await anna.get("/twin")).text

        await wait_for(suggested, what="Bruno suggested to Anna")
        ask = {"actor": cities.bruno_actor}
        assert (await anna.submit("/contacts/request", ask, page="/twin")).status_code == 303
        again = await anna.submit("/contacts/request", ask, page="/contacts/requests")
        assert again.status_code == 429 and int(again.headers["Retry-After"]) > 0
        assert "Zu viele Anfragen" in again.text  # Anna reads German
        assert len(await contacts_of(cities.oldenburg, cities.anna)) == 1

        incoming = await until_contact(
            cities.cholet, cities.bruno, lambda c: c.their_consent == "yes", "request at Cholet"
        )
        accepted = await bruno.submit(
            f"/contacts/{incoming.id}/answer", {"decision": "accept"}, page="/contacts/requests"
        )
        assert accepted.status_code == 303
        mine = await until_contact(
            cities.oldenburg, cities.anna, lambda c: c.their_name == BRUNO_NAME, "Bruno revealed"
        )
        assert is_mutual(mine)
        page = f"/contacts/{mine.id}"
        path = f"{page}/messages"
        for number in range(2):
            wrote = await anna.submit(path, {"body": f"Hallo {number}"}, page=page)
            assert wrote.status_code == 303
        refused = await anna.submit(path, {"body": "Hallo 2"}, page=page)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert [m.body for m in await messages_of(cities.oldenburg, mine.id)] == [
            "Hallo 0",
            "Hallo 1",
        ]

        report = {"reason": "spam", "comment": "zu viel"}
        filed = await anna.submit(f"{page}/report", report)
        assert filed.status_code == 303
        refused = await anna.submit(f"{page}/report", report)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert cities.oldenburg.app is not None
        async with cities.oldenburg.app[appkeys.DATABASE].read() as session:
            assert await session.scalar(select(func.count()).select_from(Report)) == 1
