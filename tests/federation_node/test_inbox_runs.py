"""Handlers that apply a run of a batch at once (``apply_all``): every activity of a burst
is applied once, by the run or by ``apply``, and when a run fails the batch is
stored again one activity at a time, so that only the activity that fails is left
pending for the inbox worker.

Whether two requests share a batch is up to the timing of the burst; every assertion
here holds either way.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiohttp import web

from node.federation.handlers import InboxContext, register_handler
from support.federation import (
    FAST,
    ProbeHandler,
    ProbeLog,
    inbox_rows,
    probe,
    signed,
    trusting,
    wait_for,
)
from support.nodes import RunningNode, node_pair

pytestmark = pytest.mark.asyncio(loop_scope="module")

BURST = 48
RUN = "RunProbe"
SETTINGS = {
    "federation": {**FAST["federation"], "retry_base_seconds": 1.0, "retry_max_seconds": 2.0}
}


class RunHandler(ProbeHandler):
    """The probe, applying runs at once; a run holding a probe that is to fail raises
    before it applied anything, as a batch statement would."""

    def __init__(self, log: ProbeLog, runs: list[int]) -> None:
        super().__init__(log)
        self.runs = runs

    async def apply_all(self, contexts: Sequence[InboxContext]) -> None:
        if any(ctx.activity["object"].get("failTimes") for ctx in contexts):
            raise RuntimeError("a run holding a failing probe")
        self.runs.append(len(contexts))
        for ctx in contexts:
            await self.apply(ctx)


def run_extension(log: ProbeLog, runs: list[int]) -> Callable[[web.Application], None]:
    def setup(app: web.Application) -> None:
        register_handler(app, "Create", RUN, RunHandler(log, runs))

    return setup


Pair = tuple[RunningNode, RunningNode, ProbeLog]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def pair(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pair]:
    directory: Path = tmp_path_factory.mktemp("runs")
    log = ProbeLog()
    extension = run_extension(log, [])
    async with node_pair(directory, overrides=SETTINGS, extensions=[extension]) as (
        oldenburg,
        cholet,
    ):
        await wait_for(lambda: trusting(oldenburg, cholet), what="Oldenburg trusting Cholet")
        yield oldenburg, cholet, log


def run_probe(node: RunningNode, n: int, **extra: Any) -> dict[str, Any]:
    document = probe(node, n, **extra)
    document["object"]["type"] = RUN
    return document


async def burst(pair: Pair, documents: list[dict[str, Any]]) -> list[int]:
    oldenburg, cholet, _ = pair
    inbox = f"{oldenburg.url}/inbox"
    requests = [signed(inbox, document, signer=cholet) for document in documents]
    limits = httpx.Limits(max_connections=len(requests))
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        responses = await asyncio.gather(
            *(http.post(inbox, content=body, headers=headers) for headers, body in requests)
        )
    return [response.status_code for response in responses]


async def test_every_activity_of_a_burst_is_applied_once(pair: Pair) -> None:
    oldenburg, cholet, log = pair
    documents = [run_probe(cholet, n) for n in range(BURST)]
    assert await burst(pair, documents) == [202] * BURST
    ids = [d["id"] for d in documents]
    rows = {r.activity_id: r for r in await inbox_rows(oldenburg)}
    assert all(rows[i].state == "applied" for i in ids)
    assert sorted(a for a in log.applied if a in ids) == sorted(ids)


async def test_a_failing_run_leaves_only_the_failing_activity_pending(pair: Pair) -> None:
    oldenburg, cholet, log = pair
    documents = [run_probe(cholet, n) for n in range(BURST)]
    failing = run_probe(cholet, 999, failTimes=1)
    documents.insert(BURST // 2, failing)
    assert await burst(pair, documents) == [202] * len(documents)
    rows = {r.activity_id: r for r in await inbox_rows(oldenburg)}
    others = [d["id"] for d in documents if d is not failing]
    assert all(rows[i].state == "applied" for i in others)
    # (A run applied before the failure was rolled back and applied again: effects
    # outside the database may happen twice, as with any rolled-back unit.)
    assert set(others) <= set(log.applied)
    assert rows[failing["id"]].state == "pending"
    assert rows[failing["id"]].last_error == "RuntimeError: probe failure 1"
    assert log.attempts[failing["id"]] == 1  # its own apply ran once on arrival

    async def applied() -> bool:
        rows = await inbox_rows(oldenburg)
        return any(r.activity_id == failing["id"] and r.state == "applied" for r in rows)

    await wait_for(applied, what="the inbox worker to apply the failed activity")
    assert log.applied.count(failing["id"]) == 1
