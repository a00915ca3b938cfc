"""A load generator in Python for signed POSTs: aiohttp clients, each request once.

Counted rather than timed: every request given is sent, so a run stores exactly what
was signed for it. One client process takes about as much CPU per request as a bare
aiohttp server, so ``clients`` spreads the connections over several processes; on two
cores even that stays far below what a bare server answers (``benchmarks._wrk`` does
not).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import aiohttp


async def _drive_one(
    url: str, requests: list[tuple[dict[str, str], bytes]], concurrency: int
) -> tuple[float, float, list[float], dict[int, int]]:
    """Wall-clock start and end, latencies and statuses of one client process."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue = iter(requests)
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client() -> None:
            for headers, body in queue:
                started = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                latencies.append(time.perf_counter() - started)
                statuses[response.status] = statuses.get(response.status, 0) + 1

        started = time.time()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        ended = time.time()
    return started, ended, latencies, statuses


def _client_process(
    url: str, requests: list[tuple[dict[str, str], bytes]], concurrency: int, go: Any
) -> tuple[float, float, list[float], dict[int, int]]:
    go.wait()
    return asyncio.run(_drive_one(url, requests, concurrency))


def drive(
    url: str, requests: list[tuple[dict[str, str], bytes]], concurrency: int, clients: int = 1
) -> dict[str, Any]:
    """The requests at ``concurrency`` connections in all, spread over ``clients``
    processes (each its own event loop) when one client process would be the limit."""
    if clients <= 1:
        runs = [asyncio.run(_drive_one(url, requests, concurrency))]
    else:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        manager = context.Manager()
        go = manager.Event()
        shares = [requests[n::clients] for n in range(clients)]
        per = [concurrency // clients + (n < concurrency % clients) for n in range(clients)]
        with context.Pool(clients) as pool:
            pending = [
                pool.apply_async(_client_process, (url, share, max(1, c), go))
                for share, c in zip(shares, per, strict=True)
            ]
            time.sleep(0.3)
            go.set()
            runs = [job.get() for job in pending]
        manager.shutdown()
    latencies = sorted(latency for run in runs for latency in run[2])
    statuses: dict[int, int] = {}
    for run in runs:
        for status, n in run[3].items():
            statuses[status] = statuses.get(status, 0) + n
    elapsed = max(run[1] for run in runs) - min(run[0] for run in runs)
    return {
        "requests": len(latencies),
        "seconds": round(elapsed, 3),
        "per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000, 2),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }
