"""The admin area: the role given on the command line only, 403 for everyone else,
counts and peers, the delivery queue with retry and discard, and reports handled on
both nodes (dismissed here, the reported resident suspended by their own city)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from node.contacts import consent as contacts
from node.contacts import messages
from node.models import (
    Message,
    OutboxActivity,
    Pseudonym,
    PublishedVector,
    Report,
    Resident,
    utcnow,
)
from node.runtime import appkeys
from node.runtime.db import create_engine
from support.contacts import (
    ANNA,
    BRUNO,
    BRUNO_NAME,
    Cities,
    act,
    add_account,
    ask,
    the_contact,
    twin_cities,
    until_contact,
)
from support.federation import probe, queue, wait_for
from support.two_factor import admin_login
from support.web import Visitor

ROOT = Path(__file__).resolve().parents[2]


def zwilling(*args: str, data_dir: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "node.cli",
            "--config",
            str(ROOT / "config" / "oldenburg.toml"),
            "--data-dir",
            str(data_dir),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "ZWILLING_DATABASE_URL": database_url},
    )


async def _role(database_url: str, email: str) -> str:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return (
                await connection.execute(select(Resident.role).where(Resident.email == email))
            ).scalar_one()
    finally:
        await engine.dispose()


async def test_admin_role_is_granted_and_revoked_on_the_command_line(
    tmp_path: Path, database_url: str
) -> None:
    assert zwilling("init", data_dir=tmp_path, database_url=database_url).returncode == 0
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                Resident.__table__.insert().values(
                    email="clerk@oldenburg.example",
                    password_hash="!",
                    display_name="Clerk",
                    kind="person",
                    role="resident",
                    status="active",
                    notify_messages=True,
                    pseudonym_epoch=0,
                    created_at=utcnow(),
                )
            )
    finally:
        await engine.dispose()

    granted = zwilling(
        "admin", "grant", "Clerk@Oldenburg.example", data_dir=tmp_path, database_url=database_url
    )
    assert granted.returncode == 0, granted.stderr
    assert "clerk@oldenburg.example: is now an admin" in granted.stdout
    assert await _role(database_url, "clerk@oldenburg.example") == "admin"
    listed = zwilling("admin", "list", data_dir=tmp_path, database_url=database_url)
    assert listed.stdout.strip() == "clerk@oldenburg.example"

    revoked = zwilling(
        "admin", "revoke", "clerk@oldenburg.example", data_dir=tmp_path, database_url=database_url
    )
    assert revoked.returncode == 0
    assert await _role(database_url, "clerk@oldenburg.example") == "resident"

    unknown = zwilling(
        "admin", "grant", "nobody@example.org", data_dir=tmp_path, database_url=database_url
    )
    assert unknown.returncode == 1
    assert "no account with the e-mail address" in unknown.stderr


async def _in_contact_with_messages(cities: Cities) -> int:
    """Anna and Bruno in contact, and Bruno's rude message at Oldenburg; Anna's contact id."""
    await ask(cities.oldenburg, cities.anna, cities.bruno_actor)
    incoming = await until_contact(
        cities.cholet, cities.bruno, lambda c: c.their_consent == "yes", "request"
    )
    await act(cities.cholet, contacts.answer_request, cities.bruno, incoming.id, accept=True)
    mine = await until_contact(
        cities.oldenburg, cities.anna, lambda c: c.their_name == BRUNO_NAME, "mutual"
    )
    await act(cities.cholet, messages.send_message, cities.bruno, incoming.id, "Tu es nulle.")

    async def arrived() -> bool:
        assert cities.oldenburg.app is not None
        async with cities.oldenburg.app[appkeys.DATABASE].read() as session:
            return bool(await session.scalar(select(Message.id).limit(1)))

    await wait_for(arrived, what="Bruno's message")
    return mine.id


async def _reports(node) -> list[Report]:
    async with node.app[appkeys.DATABASE].read() as session:
        return list((await session.scalars(select(Report).order_by(Report.id))).all())


async def test_reports_are_seen_dismissed_and_lead_to_suspension(tmp_path: Path) -> None:
    async with twin_cities(tmp_path) as cities:
        await add_account(cities.oldenburg, "admin@oldenburg.example", role="admin")
        await add_account(cities.cholet, "admin@cholet.example", role="admin")
        mine = await _in_contact_with_messages(cities)

        async with Visitor(cities.oldenburg) as anna:
            assert (await anna.login(ANNA)).status_code == 303
            reported = await anna.submit(
                f"/contacts/{mine}/report",
                {"reason": "harassment", "comment": "Il est méchant."},
            )
            assert reported.status_code == 303
            missing = await anna.submit(f"/contacts/{mine}/report", {"reason": "bogus"})
            assert missing.status_code == 400
            assert (await anna.get("/admin")).status_code == 403

        [filed] = await _reports(cities.oldenburg)
        assert filed.origin == "filed" and [m["body"] for m in filed.messages] == ["Tu es nulle."]

        async with Visitor(cities.oldenburg) as clerk:
            await admin_login(clerk, "admin@oldenburg.example")
            listing = await clerk.get("/admin/reports")
            assert f"/admin/reports/{filed.id}" in listing.text
            detail = await clerk.get(f"/admin/reports/{filed.id}")
            assert "Tu es nulle." in detail.text and "Il est méchant." in detail.text
            assert "/suspend" not in detail.text  # Bruno is Cholet's to suspend
            dismissed = await clerk.submit(
                f"/admin/reports/{filed.id}/dismiss", {}, page=f"/admin/reports/{filed.id}"
            )
            assert dismissed.status_code == 303
        assert (await _reports(cities.oldenburg))[0].state == "dismissed"

        async def forwarded() -> bool:
            return len(await _reports(cities.cholet)) == 1

        await wait_for(forwarded, what="report forwarded to Cholet")
        [received] = await _reports(cities.cholet)
        assert received.origin == "received" and received.subject_id == cities.bruno
        assert received.reason == "harassment" and received.comment == ""
        assert [m["body"] for m in received.messages] == ["Tu es nulle."]

        async with Visitor(cities.cholet, "fr") as clerk:
            await admin_login(clerk, "admin@cholet.example")
            detail = await clerk.get(f"/admin/reports/{received.id}")
            assert "Tu es nulle." in detail.text and "Il est méchant." not in detail.text
            suspended = await clerk.submit(
                f"/admin/reports/{received.id}/suspend", {}, page=f"/admin/reports/{received.id}"
            )
            assert suspended.status_code == 303

        assert cities.cholet.app is not None
        async with cities.cholet.app[appkeys.DATABASE].read() as session:
            bruno = await session.get(Resident, cities.bruno)
            assert bruno is not None and bruno.status == "suspended"
            current = await session.scalar(
                select(Pseudonym.id).where(
                    Pseudonym.resident_id == cities.bruno, Pseudonym.withdrawn_at.is_(None)
                )
            )
            assert current is None
        async with Visitor(cities.cholet, "fr") as bruno_browser:
            assert (await bruno_browser.login(BRUNO)).status_code != 303
        await until_contact(
            cities.oldenburg, cities.anna, lambda c: c.remote_deleted_at is not None, "gone"
        )
        assert contacts.standing(await the_contact(cities.cholet, cities.bruno)) == "left"


async def test_admin_pages_are_forbidden_to_residents(tmp_path: Path) -> None:
    async with twin_cities(tmp_path) as cities, Visitor(cities.cholet, "fr") as bruno:
        anonymous = await bruno.get("/admin")
        assert anonymous.status_code == 303 and anonymous.headers["Location"].startswith("/login")
        assert (await bruno.login(BRUNO)).status_code == 303
        for path in (
            "/admin",
            "/admin/privacy",
            "/admin/queue",
            "/admin/reports",
            "/admin/reports/1",
        ):
            assert (await bruno.get(path)).status_code == 403, path
        token = await bruno.token("/contacts")
        for path in (
            "/admin/queue/1/retry",
            "/admin/queue/1/discard",
            "/admin/reports/1/dismiss",
            "/admin/reports/1/suspend",
        ):
            answer = await bruno.client.post(path, data={"csrf_token": token})
            assert answer.status_code == 403, path


async def _outbox(node) -> list[OutboxActivity]:
    async with node.app[appkeys.DATABASE].read() as session:
        return list(
            (await session.scalars(select(OutboxActivity).order_by(OutboxActivity.id))).all()
        )


async def test_admin_sees_counts_peers_and_retries_or_discards_deliveries(tmp_path: Path) -> None:
    async with twin_cities(tmp_path) as cities:
        await add_account(cities.oldenburg, "admin@oldenburg.example", role="admin")
        # Cholet has no handler for a probe: it refuses it for good, the row fails.
        await queue(cities.oldenburg, cities.cholet, [probe(cities.oldenburg, 1)])

        async def failed() -> bool:
            return any(row.state == "failed" for row in await _outbox(cities.oldenburg))

        await wait_for(failed, what="a refused delivery")
        [refused] = [row for row in await _outbox(cities.oldenburg) if row.state == "failed"]

        async with Visitor(cities.oldenburg) as clerk:
            await admin_login(clerk, "admin@oldenburg.example")
            overview = await clerk.get("/admin")
            assert overview.status_code == 200
            assert cities.cholet.config.actor_url in overview.text
            assert "Cholet" in overview.text
            queue_page = await clerk.get("/admin/queue?state=failed")
            assert refused.activity_id in queue_page.text

            await cities.cholet.stop()
            retried = await clerk.submit(
                f"/admin/queue/{refused.id}/retry",
                {"state": "failed"},
                page="/admin/queue?state=failed",
            )
            assert retried.status_code == 303
            again = next(r for r in await _outbox(cities.oldenburg) if r.id == refused.id)
            assert again.state in ("pending", "sending")
            pending_page = await clerk.get("/admin/queue?state=pending")
            assert refused.activity_id in pending_page.text

            async def discarded() -> bool:
                # A row in flight is not discarded (the page says "being sent"); Cholet
                # is down, so between two attempts it waits as pending again.
                answer = await clerk.submit(
                    f"/admin/queue/{refused.id}/discard",
                    {"state": "pending"},
                    page="/admin/queue?state=pending",
                )
                assert answer.status_code == 303
                return refused.id not in [row.id for row in await _outbox(cities.oldenburg)]

            await wait_for(discarded, what="the retried row discarded")


async def test_admin_sees_what_leaves_for_each_partner_city(tmp_path: Path) -> None:
    """The privacy page shows the figures of ``zwilling privacy report`` per peer."""
    async with twin_cities(tmp_path) as cities:
        await add_account(cities.cholet, "admin@cholet.example", role="admin")
        assert cities.cholet.app is not None
        async with cities.cholet.app[appkeys.DATABASE].read() as session:
            published = len((await session.scalars(select(PublishedVector))).all())
        assert published > 0
        async with Visitor(cities.cholet, "fr") as clerk:
            await admin_login(clerk, "admin@cholet.example")
            page = await clerk.get("/admin/privacy")
        assert page.status_code == 200
        assert cities.oldenburg.config.actor_url in page.text or "Oldenburg" in page.text
        figures = re.search(r"Profils détenus par cette ville jumelée</dt><dd>(\d+)<", page.text)
        assert figures is not None and int(figures.group(1)) == published
        assert "Retenus (trop rares même simplifiés)</dt><dd>0<" in page.text
