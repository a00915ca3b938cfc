"""``zwilling db copy``: a SQLite node moves to PostgreSQL and carries on where it stopped.

Oldenburg runs on SQLite (whatever backend the rest of the run tests), gets a
contact with Bruno in Cholet and messages, then Cholet goes down so that Anna's
next messages wait in Oldenburg's outbox. Oldenburg stops, its database is copied
to a fresh PostgreSQL database, and it starts again on that one with the same keys
and data directory: Anna logs in with her password, sees Bruno, and what waited
is delivered once Cholet is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from node.cli import main
from node.models import OutboxActivity, Profile, Pseudonym, Resident, utcnow
from node.operations import copy as copying
from node.runtime import migrate
from node.runtime.db import Database, create_engine
from node.runtime.keys import load_keys
from support.contacts import (
    ANNA,
    BRUNO,
    BRUNO_NAME,
    Cities,
    add_account,
    messages_of,
    the_contact,
    twin_cities,
    until_contact,
)
from support.databases import ENV, fresh_postgres_database
from support.federation import wait_for
from support.nodes import RunningNode, prepare_node, write_config
from support.web import PASSWORD, Visitor

pytestmark = pytest.mark.postgres

QUEUED = ["Bist du noch da? (1)", "Bist du noch da? (2)"]


@dataclass
class Result:
    status: int
    out: str
    err: str


def _run(argv: list[str]) -> Result:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status: int | str | None = main(argv)
        except SystemExit as exc:
            status = exc.code
    return Result(status if isinstance(status, int) else 1, out.getvalue(), err.getvalue())


async def zwilling(*args: str) -> Result:
    """The command as city IT runs it: ``main(argv)`` with an event loop of its own, in a
    thread, while the test's nodes keep serving on this loop."""
    return await asyncio.to_thread(_run, list(args))


async def count(url: str, model: Any) -> int:
    db = Database.open(url)
    try:
        async with db.read() as session:
            return int((await session.execute(select(func.count()).select_from(model))).scalar())
    finally:
        await db.dispose()


async def mutual_contact(cities: Cities) -> tuple[int, int]:
    """Anna asks Bruno through the pages and Bruno says yes: the contact's id at
    Oldenburg and at Cholet."""
    async with Visitor(cities.oldenburg) as anna, Visitor(cities.cholet, "fr") as bruno:
        assert (await anna.login(ANNA)).status_code == 303
        assert (await bruno.login(BRUNO)).status_code == 303

        async def suggested() -> bool:
            return cities.bruno_actor in (await anna.get("/twin")).text

        await wait_for(suggested, what="Bruno suggested to Anna")
        asked = await anna.submit("/contacts/request", {"actor": cities.bruno_actor}, page="/twin")
        assert asked.status_code == 303
        incoming = await until_contact(
            cities.cholet, cities.bruno, lambda c: c.their_consent == "yes", "request at Cholet"
        )
        accepted = await bruno.submit(
            f"/contacts/{incoming.id}/answer", {"decision": "accept"}, page="/contacts/requests"
        )
        assert accepted.status_code == 303
    contact = await until_contact(
        cities.oldenburg, cities.anna, lambda c: c.their_name == BRUNO_NAME, "Bruno revealed"
    )
    return contact.id, incoming.id


async def send(node: RunningNode, contact_id: int, body: str) -> None:
    async with Visitor(node) as anna:
        assert (await anna.login(ANNA)).status_code == 303
        page = f"/contacts/{contact_id}"
        wrote = await anna.submit(f"{page}/messages", {"body": body}, page=page)
        assert wrote.status_code == 303, wrote.text


def report_lines(out: str) -> dict[str, str]:
    """The verification table: table name -> its line."""
    rows = [line for line in out.splitlines() if line.startswith("  ") and " rows " in line]
    return {line.split()[0]: line for line in rows}


async def test_a_sqlite_node_moves_to_postgresql_with_its_queue(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV)  # the two cities on SQLite, whatever this run tests
    async with (
        twin_cities(tmp_path) as cities,
        fresh_postgres_database(postgres_url) as target,
    ):
        oldenburg, cholet = cities.oldenburg, cities.cholet
        assert oldenburg.config.database_url.startswith("sqlite")
        contact_id, incoming_id = await mutual_contact(cities)
        await send(oldenburg, contact_id, "Hallo Bruno!")

        async def first_arrived() -> bool:
            return [m.body for m in await messages_of(cholet, incoming_id)] == ["Hallo Bruno!"]

        await wait_for(first_arrived, what="the first message at Cholet")
        await add_account(oldenburg, "clara@oldenburg.example")

        await cholet.stop()
        for body in QUEUED:
            await send(oldenburg, contact_id, body)
        await oldenburg.stop()
        source = oldenburg.config.database_url
        waiting = await count_waiting(source)
        assert len(waiting) >= len(QUEUED), waiting
        residents = await count(source, Resident)
        pseudonyms = await count(source, Pseudonym)
        assert residents == 2 and pseudonyms >= 1

        config_file = write_config(oldenburg, tmp_path / "oldenburg.toml")
        copied = await zwilling("--config", str(config_file), "db", "copy", "--to", target)
        assert copied.status == 0, copied.err
        lines = report_lines(copied.out)
        assert {"residents", "contacts", "messages", "pseudonyms", "outbox"} <= set(lines)
        assert all(line.endswith("ok") for line in lines.values()), copied.out
        assert " 2 rows" in lines["residents"]
        assert await count(target, Resident) == residents
        assert await count(target, Pseudonym) == pseudonyms

        moved = RunningNode(
            config=oldenburg.config.model_copy(
                update={"node": oldenburg.config.node.model_copy(update={"database_url": target})}
            ),
            keys=load_keys(oldenburg.config),
            sock=oldenburg.sock,
        )
        await moved.start()
        try:
            async with Visitor(moved) as anna:
                assert (await anna.login(ANNA, PASSWORD)).status_code == 303
                page = await anna.get("/contacts")
                assert page.status_code == 200 and BRUNO_NAME in page.text

            await cholet.start()

            async def delivered() -> bool:
                bodies = [m.body for m in await messages_of(cholet, incoming_id)]
                return bodies == ["Hallo Bruno!", *QUEUED]

            await wait_for(delivered, within=30, what="the queued messages at Cholet")
            # New rows continue after the copied ids (the sequences were moved on).
            await send(moved, contact_id, "Neu hier")
            ids = [m.id for m in await messages_of(moved, contact_id)]
            assert len(ids) == 2 + len(QUEUED) and ids[-1] == max(ids)

            async def all_delivered() -> bool:
                return not await count_waiting(target)

            await wait_for(all_delivered, within=30, what="Oldenburg's outbox to empty")
            assert (await the_contact(moved, cities.anna)).their_name == BRUNO_NAME
        finally:
            await moved.stop()


async def count_waiting(url: str) -> list[int]:
    db = Database.open(url)
    try:
        async with db.read() as session:
            rows = await session.scalars(
                select(OutboxActivity.id).where(OutboxActivity.state.in_(("pending", "sending")))
            )
            return list(rows.all())
    finally:
        await db.dispose()


# -- refusals and a second run --------------------------------------------------------


@contextlib.asynccontextmanager
async def sqlite_node(tmp_path: Path) -> AsyncIterator[tuple[RunningNode, Path]]:
    """A stopped Oldenburg on SQLite with three residents and their profiles."""
    node = await prepare_node(tmp_path, "oldenburg", f"sqlite+aiosqlite:///{tmp_path / 'o.db'}")
    db = Database.open(node.config.database_url)
    try:
        async with db.write() as session:
            for number in range(3):
                resident = Resident(
                    email=f"r{number}@oldenburg.example",
                    password_hash="x",
                    display_name=f"Résident {number}",
                    kind="person",
                    email_verified_at=utcnow(),
                )
                session.add(resident)
                await session.flush()
                session.add(
                    Profile(
                        resident_id=resident.id,
                        interests=["sport.cycling"],
                        languages={"de": "native"},
                        completed=number % 2 == 0,
                    )
                )
    finally:
        await db.dispose()
    yield node, write_config(node, tmp_path / "oldenburg.toml")


async def test_refuses_a_target_with_rows_or_at_another_revision(
    tmp_path: Path, postgres_url: str
) -> None:
    async with (
        sqlite_node(tmp_path) as (_node, config),
        fresh_postgres_database(postgres_url) as older,
        fresh_postgres_database(postgres_url) as target,
    ):
        engine = create_engine(older)
        try:
            await migrate.upgrade(engine, "0005")
        finally:
            await engine.dispose()
        refused = await zwilling("--config", str(config), "db", "copy", "--to", older)
        assert refused.status == 2
        assert len(refused.err.strip().splitlines()) == 1, refused.err
        assert "at migration 0005" in refused.err
        assert await count(older, Resident) == 0

        first = await zwilling("--config", str(config), "db", "copy", "--to", target)
        assert first.status == 0, first.err
        again = await zwilling("--config", str(config), "db", "copy", "--to", target)
        assert again.status == 2
        assert len(again.err.strip().splitlines()) == 1, again.err
        assert "not empty (residents: 3" in again.err
        assert await count(target, Resident) == 3


async def test_a_copy_that_failed_completes_with_resume(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_batches = copying.batches

    async def failing(connection: Any, table: Any, size: int) -> AsyncIterator[Any]:
        async for partition in real_batches(connection, table, size):
            yield partition
            if table.name == "profiles":
                raise ConnectionResetError("connection to the server was lost")

    async with (
        sqlite_node(tmp_path) as (_node, config),
        fresh_postgres_database(postgres_url) as target,
    ):
        argv = ["--config", str(config), "db", "copy", "--to", target, "--batch-rows", "1"]
        monkeypatch.setattr(copying, "batches", failing)
        failed = await zwilling(*argv)
        assert failed.status == 1 and "run the same command with --resume" in failed.err
        assert await count(target, Resident) == 3  # committed before the failure
        assert await count(target, Profile) == 0  # its transaction rolled back
        monkeypatch.setattr(copying, "batches", real_batches)

        again = await zwilling(*argv)
        assert again.status == 2 and "--resume" in again.err, again.err

        resumed = await zwilling(*argv, "--resume")
        assert resumed.status == 0, resumed.err
        assert "resuming:" in resumed.out and "copying from profiles" in resumed.out
        lines = report_lines(resumed.out)
        assert lines and all(line.endswith("ok") for line in lines.values()), resumed.out
        assert await count(target, Profile) == 3

        # Finished: the mark is gone, so the target now counts as someone's database.
        finished = await zwilling(*argv, "--resume")
        assert finished.status == 2 and "not empty" in finished.err, finished.err
