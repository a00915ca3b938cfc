"""BackgroundWork: every worker starts with the app, a crashed one is restarted with a
backoff, and stopping gives them one grace period before cancelling."""

from __future__ import annotations

import asyncio

import pytest

from node.runtime import background
from node.runtime.background import BackgroundWork


async def test_a_crashed_worker_is_restarted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(background, "RESTART_BASE_SECONDS", 0.01)
    runs: list[int] = []
    settled = asyncio.Event()

    async def flaky(stop: asyncio.Event) -> None:
        runs.append(len(runs))
        if len(runs) < 3:
            raise RuntimeError("a bad row")
        settled.set()
        await stop.wait()

    work = BackgroundWork(grace_seconds=1.0)
    work.add("flaky", flaky)
    lifetime = work.lifetime()
    await anext(lifetime)
    await asyncio.wait_for(settled.wait(), timeout=5)
    with pytest.raises(StopAsyncIteration):
        await anext(lifetime)
    assert runs == [0, 1, 2]


async def test_stop_waits_for_the_grace_period_then_cancels() -> None:
    finished: list[str] = []

    async def polite(stop: asyncio.Event) -> None:
        await stop.wait()
        finished.append("polite")

    async def stuck(stop: asyncio.Event) -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            finished.append("stuck cancelled")
            raise

    work = BackgroundWork(grace_seconds=0.2)
    work.add("polite", polite)
    work.add("stuck", stuck)
    assert work.names() == ["polite", "stuck"]
    lifetime = work.lifetime()
    await anext(lifetime)
    await asyncio.sleep(0)  # let both start
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(lifetime), timeout=5)
    assert sorted(finished) == ["polite", "stuck cancelled"]
