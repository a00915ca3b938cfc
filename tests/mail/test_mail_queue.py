"""Mail never on the request path: pages queue mail in their transaction and the
mail worker sends it, with retries, across restarts."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import delete, select, update

from node.mail.worker import MailWorker
from node.models import QueuedMail, Resident, utcnow
from node.retention.purge import purge
from node.runtime import appkeys
from support.contacts import add_account
from support.federation import wait_for
from support.nodes import RunningNode, prepare_node
from support.smtp import SmtpServer, smtp_server
from support.web import csrf_token, link_in, mails_to, without_csrf

ANNA = "anna@example.org"


async def _queued(node: RunningNode) -> Sequence[QueuedMail]:
    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as uow:
        return (await uow.scalars(select(QueuedMail).order_by(QueuedMail.id))).all()


async def _ask_reset(client: httpx.AsyncClient, email: str) -> httpx.Response:
    page = await client.get("/password/forgotten")
    return await client.post(
        "/password/forgotten", data={"email": email, "csrf_token": csrf_token(page.text)}
    )


async def test_the_reset_page_answers_while_the_mail_server_holds_the_mail(
    tmp_path: Path, database_url: str
) -> None:
    async with smtp_server(SmtpServer(hold=True)) as smtp:
        node = await prepare_node(
            tmp_path, "oldenburg", database_url, overrides={"mail": smtp.settings()}
        )
        await node.start()
        try:
            await add_account(node, ANNA)
            async with httpx.AsyncClient(base_url=node.url, timeout=30) as client:
                known = await _ask_reset(client, ANNA)
                await asyncio.wait_for(smtp.arrived.wait(), 15)  # the worker is sending
                unknown = await _ask_reset(client, "nobody@example.org")
                # Both pages came back while the server still holds the mail.
                assert not smtp.received and not smtp.released.is_set()
            assert known.status_code == unknown.status_code == 200
            # The same page for both addresses, but for the address it repeats.
            assert without_csrf(known.text).replace(ANNA, "@") == without_csrf(
                unknown.text
            ).replace("nobody@example.org", "@")
            assert [row.state for row in await _queued(node)] == ["sending"]

            smtp.released.set()
            await asyncio.wait_for(smtp.accepted.wait(), 15)
            assert [message["To"] for message in smtp.received] == [ANNA]
            assert "/password/reset?token=" in smtp.received[0].get_body().get_content()  # type: ignore[union-attr]

            async def sent() -> bool:
                return [row.state for row in await _queued(node)] == ["sent"]

            await wait_for(sent, what="the row to be settled as sent")
        finally:
            await node.stop()


async def test_queued_mail_survives_a_restart(tmp_path: Path, database_url: str) -> None:
    node = await prepare_node(tmp_path, "oldenburg", database_url)
    await node.start(run_workers=False)
    await add_account(node, ANNA)
    async with httpx.AsyncClient(base_url=node.url, timeout=30) as client:
        assert (await _ask_reset(client, ANNA)).status_code == 200
    assert [row.state for row in await _queued(node)] == ["pending"]
    assert mails_to(node, ANNA) == []
    await node.stop()

    await node.start()  # with its workers this time
    try:

        async def sent() -> bool:
            return [row.state for row in await _queued(node)] == ["sent"]

        await wait_for(sent, what="the queued mail to be sent")
        (mail,) = mails_to(node, ANNA)
        assert link_in(mail, "/password/reset").startswith("/password/reset?")
    finally:
        await node.stop()


async def test_a_failing_mail_server_is_tried_again_until_the_mail_goes(
    tmp_path: Path, database_url: str
) -> None:
    async with smtp_server(SmtpServer(refuse_first=1)) as smtp:
        node = await prepare_node(
            tmp_path, "oldenburg", database_url, overrides={"mail": smtp.settings()}
        )
        await node.start(run_workers=False)
        try:
            assert node.app is not None
            await add_account(node, ANNA)
            async with httpx.AsyncClient(base_url=node.url, timeout=30) as client:
                assert (await _ask_reset(client, ANNA)).status_code == 200
            worker, mailer = MailWorker(node.app), node.app[appkeys.MAILER]

            assert await worker.round(mailer) == 1  # refused with 451
            (row,) = await _queued(node)
            assert (row.state, row.tries, row.last_error) == ("pending", 1, "SMTPSenderRefused 451")
            assert row.next_try_at > utcnow() and not smtp.received
            assert await worker.round(mailer) == 0  # not due yet: backing off

            async with node.app[appkeys.DATABASE].write() as uow:  # the backoff has passed
                await uow.execute(update(QueuedMail).values(next_try_at=utcnow()))
            assert await worker.round(mailer) == 1
            (row,) = await _queued(node)
            assert (row.state, row.tries, row.sent_at is not None) == ("sent", 1, True)
            assert [message["To"] for message in smtp.received] == [ANNA]
        finally:
            await node.stop()


async def test_retries_follow_the_configured_backoff_and_give_up(
    tmp_path: Path, database_url: str
) -> None:
    retries = {"retry_first_seconds": 5, "retry_max_seconds": 8, "give_up_after_tries": 3}
    async with smtp_server(SmtpServer(refuse_first=10)) as smtp:
        node = await prepare_node(
            tmp_path, "oldenburg", database_url, overrides={"mail": smtp.settings() | retries}
        )
        await node.start(run_workers=False)
        try:
            assert node.app is not None
            await add_account(node, ANNA)
            async with httpx.AsyncClient(base_url=node.url, timeout=30) as client:
                assert (await _ask_reset(client, ANNA)).status_code == 200
            worker, mailer = MailWorker(node.app), node.app[appkeys.MAILER]
            delays = []
            for _ in range(3):
                before = utcnow()
                assert await worker.round(mailer) == 1
                (row,) = await _queued(node)
                if row.state == "pending":
                    delays.append((row.next_try_at - before).total_seconds())
                    async with node.app[appkeys.DATABASE].write() as uow:
                        await uow.execute(update(QueuedMail).values(next_try_at=utcnow()))
            assert (row.state, row.tries) == ("failed", 3)  # given up after the third try
            assert len(delays) == 2 and all(0 < delay <= 8 + 1 for delay in delays)
            assert await worker.round(mailer) == 0 and not smtp.received
        finally:
            await node.stop()


async def test_queued_mail_goes_with_the_resident(tmp_path: Path, database_url: str) -> None:
    node = await prepare_node(tmp_path, "oldenburg", database_url)
    await node.start(run_workers=False)
    try:
        assert node.app is not None
        resident_id = await add_account(node, ANNA)
        async with httpx.AsyncClient(base_url=node.url, timeout=30) as client:
            assert (await _ask_reset(client, ANNA)).status_code == 200
        assert [row.recipient_id for row in await _queued(node)] == [resident_id]
        async with node.app[appkeys.DATABASE].write() as uow:
            await uow.execute(delete(Resident).where(Resident.id == resident_id))
        assert await _queued(node) == []
    finally:
        await node.stop()


async def test_the_purge_drops_sent_mail_after_its_period(
    tmp_path: Path, database_url: str
) -> None:
    node = await prepare_node(tmp_path, "oldenburg", database_url)
    await node.start(run_workers=False)
    try:
        assert node.app is not None
        await add_account(node, ANNA)
        async with httpx.AsyncClient(base_url=node.url, timeout=30) as client:
            for _ in range(2):
                assert (await _ask_reset(client, ANNA)).status_code == 200
        worker = MailWorker(node.app)
        assert await worker.round(node.app[appkeys.MAILER]) == 2
        old, recent = await _queued(node)
        retention = node.config.retention
        long_ago = utcnow() - timedelta(days=retention.mail_file_days + 1)
        async with node.app[appkeys.DATABASE].write() as uow:
            await uow.execute(
                update(QueuedMail).where(QueuedMail.id == old.id).values(sent_at=long_ago)
            )
        result = await purge(node.app[appkeys.DATABASE], retention, utcnow())
        assert result.queued_mails == 1
        assert [row.id for row in await _queued(node)] == [recent.id]
    finally:
        await node.stop()
