"""Group commit in the inbox, with real signed requests against running nodes: bursts of
concurrent arrivals are stored once each, a failing activity does not take its batch
down, copies of one id in a burst are stored once, and a node stopped between
verification and commit acknowledges nothing it did not store.

Whether two requests share a batch is up to the timing of the burst; every assertion
here holds either way, which is the point: batching must not change what a sender sees.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiohttp import web
from sqlalchemy import select

from node.federation.handlers import ActivityHandler, InboxContext, register_handler
from node.models import InboxActivity
from node.runtime.db import Database
from support.federation import (
    FAST,
    ProbeLog,
    inbox_rows,
    probe,
    probe_extension,
    signed,
    trusting,
    wait_for,
)
from support.nodes import RunningNode, node_pair

pytestmark = pytest.mark.asyncio(loop_scope="module")

BURST = 48
HELD = "Held"
# Retries late enough that what happened on arrival can be read before the inbox worker
# has tried again.
SETTINGS = {
    "federation": {**FAST["federation"], "retry_base_seconds": 1.0, "retry_max_seconds": 2.0}
}


@dataclass
class Hold:
    """A handler that waits in ``apply`` until released: the window between a verified
    arrival and its commit, held open."""

    entered: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


class HeldHandler(ActivityHandler):
    def __init__(self, hold: Hold) -> None:
        self.hold = hold

    async def apply(self, ctx: InboxContext) -> None:
        self.hold.entered.set()
        await self.hold.release.wait()


def hold_extension(hold: Hold) -> Callable[[web.Application], None]:
    def setup(app: web.Application) -> None:
        register_handler(app, "Create", HELD, HeldHandler(hold))

    return setup


@dataclass
class Pair:
    oldenburg: RunningNode
    cholet: RunningNode
    log: ProbeLog

    @property
    def inbox(self) -> str:
        return f"{self.oldenburg.url}/inbox"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def pair(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pair]:
    directory: Path = tmp_path_factory.mktemp("batches")
    log = ProbeLog()
    async with node_pair(directory, overrides=SETTINGS, extensions=[probe_extension(log)]) as (
        oldenburg,
        cholet,
    ):
        await wait_for(lambda: trusting(oldenburg, cholet), what="Oldenburg trusting Cholet")
        yield Pair(oldenburg, cholet, log)


async def burst(inbox: str, signer: RunningNode, documents: list[dict[str, Any]]) -> list[Any]:
    """All POSTs at once, each on a connection of its own; a response or the error."""
    requests = [signed(inbox, document, signer=signer) for document in documents]
    limits = httpx.Limits(max_connections=len(requests))
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        return await asyncio.gather(
            *(http.post(inbox, content=body, headers=headers) for headers, body in requests),
            return_exceptions=True,
        )


async def test_a_burst_is_stored_and_applied_once_each(pair: Pair) -> None:
    documents = [probe(pair.cholet, n) for n in range(BURST)]
    responses = await burst(pair.inbox, pair.cholet, documents)
    assert [r.status_code for r in responses] == [202] * BURST
    assert {r.json()["status"] for r in responses} == {"accepted"}
    ids = {d["id"] for d in documents}
    rows = [r for r in await inbox_rows(pair.oldenburg) if r.activity_id in ids]
    assert sorted(r.activity_id for r in rows) == sorted(ids)
    assert {r.state for r in rows} == {"applied"}
    assert sorted(a for a in pair.log.applied if a in ids) == sorted(ids)


async def test_a_failing_activity_does_not_fail_the_others(pair: Pair) -> None:
    documents = [probe(pair.cholet, n) for n in range(BURST)]
    failing = probe(pair.cholet, 999, failTimes=1)
    documents.insert(BURST // 2, failing)
    responses = await burst(pair.inbox, pair.cholet, documents)
    assert [r.status_code for r in responses] == [202] * len(documents)
    rows = {r.activity_id: r for r in await inbox_rows(pair.oldenburg)}
    others = [d["id"] for d in documents if d is not failing]
    assert all(rows[i].state == "applied" for i in others)
    assert rows[failing["id"]].state == "pending"
    assert rows[failing["id"]].last_error == "RuntimeError: probe failure 1"
    # Its handler ran once on arrival, as if it had come alone.
    assert pair.log.attempts[failing["id"]] == 1

    async def applied() -> bool:
        rows = await inbox_rows(pair.oldenburg)
        return any(r.activity_id == failing["id"] and r.state == "applied" for r in rows)

    await wait_for(applied, what="the inbox worker to apply the failed activity")
    assert pair.log.applied.count(failing["id"]) == 1


async def test_copies_of_one_id_in_a_burst_are_stored_once(pair: Pair) -> None:
    document = probe(pair.cholet, 7)
    responses = await burst(pair.inbox, pair.cholet, [document] * 16)
    assert [r.status_code for r in responses] == [202] * 16
    statuses = sorted(r.json()["status"] for r in responses)
    assert statuses == ["accepted"] + ["duplicate"] * 15
    rows = [r for r in await inbox_rows(pair.oldenburg) if r.activity_id == document["id"]]
    assert len(rows) == 1
    assert pair.log.applied.count(document["id"]) == 1


async def test_refusals_in_a_burst_answer_only_their_own_request(pair: Pair) -> None:
    documents = [probe(pair.cholet, n) for n in range(8)]
    refused = probe(pair.cholet, 8, reject="not with this resident")
    responses = await burst(pair.inbox, pair.cholet, [*documents, refused])
    assert [r.status_code for r in responses] == [202] * 8 + [403]
    stored = {r.activity_id for r in await inbox_rows(pair.oldenburg)}
    assert {d["id"] for d in documents} <= stored
    assert refused["id"] not in stored


async def test_a_stop_before_the_commit_acknowledges_nothing_unstored(
    tmp_path: Path,
) -> None:
    hold = Hold()
    async with node_pair(tmp_path, overrides=FAST, extensions=[hold_extension(hold)]) as (
        oldenburg,
        cholet,
    ):
        await wait_for(lambda: trusting(oldenburg, cholet), what="Oldenburg trusting Cholet")
        inbox = f"{oldenburg.url}/inbox"
        documents = [probe(cholet, n) for n in range(12)]
        for document in documents:
            document["object"]["type"] = HELD
        sending = asyncio.create_task(burst(inbox, cholet, documents))
        await asyncio.wait_for(hold.entered.wait(), timeout=15)
        await oldenburg.stop()  # the batch is still inside its transaction
        responses = await sending
        stored = await stored_ids(oldenburg.config.database_url, [d["id"] for d in documents])

    acknowledged = {
        d["id"]
        for d, r in zip(documents, responses, strict=True)
        if isinstance(r, httpx.Response) and r.status_code == 202
    }
    unanswered = [r for r in responses if not isinstance(r, httpx.Response)]
    refused = [r for r in responses if isinstance(r, httpx.Response) and r.status_code != 202]
    assert all(isinstance(r, httpx.HTTPError) for r in unanswered)
    assert all(r.status_code == 503 for r in refused)
    assert acknowledged <= stored
    assert not stored  # the held batch never committed, so nothing may have been acknowledged


async def stored_ids(database_url: str, ids: list[str]) -> set[str]:
    db = Database.open(database_url)
    try:
        async with db.read() as session:
            found = await session.scalars(
                select(InboxActivity.activity_id).where(InboxActivity.activity_id.in_(ids))
            )
            return set(found.all())
    finally:
        await db.dispose()
