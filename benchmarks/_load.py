"""The load generator of ``benchmarks.pages``: logged-in residents clicking through
pages as fast as the server answers, in processes of their own so that the generator
never shares an event loop with the node it measures.

Each generator process runs ``python -m benchmarks._load SPEC RESULT``: it reads its
clients (a session cookie and the pages each one visits in turn) from the JSON spec
and writes their latencies per page to the result file. A late answer counts as a
timeout, a status other than 200 as an error.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks._processes import start


async def _drive(spec: dict[str, Any]) -> dict[str, Any]:
    """One generator process: its clients, each a logged-in resident in a loop over the
    pages, for the given seconds; latencies per page."""
    base, seconds, timeout = spec["base"], spec["seconds"], spec["timeout"]
    latencies: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    timeouts: dict[str, int] = {}
    statuses: dict[str, int] = {}
    deadline = time.perf_counter() + spec["warmup"] + seconds
    measuring_from = time.perf_counter() + spec["warmup"]
    per_request = aiohttp.ClientTimeout(total=timeout)

    async def client(entry: dict[str, Any], offset: int) -> None:
        jar = aiohttp.CookieJar(unsafe=True)
        cookies = {spec["cookie"]: entry["token"]} if entry.get("token") else {}
        connector = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(
            connector=connector, cookie_jar=jar, cookies=cookies, timeout=per_request
        ) as session:
            names = list(entry["pages"])
            turn = offset
            while time.perf_counter() < deadline:
                name = names[turn % len(names)]
                turn += 1
                started = time.perf_counter()
                status: int | None = None
                late = False
                try:
                    async with session.get(base + entry["pages"][name], allow_redirects=False) as r:
                        await r.read()
                        status = r.status
                except TimeoutError:
                    late = True
                except aiohttp.ClientError:
                    status = None
                elapsed = time.perf_counter() - started
                if started < measuring_from:
                    continue
                latencies.setdefault(name, []).append(elapsed)
                if late:
                    timeouts[name] = timeouts.get(name, 0) + 1
                elif status != 200:
                    errors[name] = errors.get(name, 0) + 1
                    statuses[f"{name} {status}"] = statuses.get(f"{name} {status}", 0) + 1

    await asyncio.gather(*(client(entry, i) for i, entry in enumerate(spec["clients"])))
    return {"latencies": latencies, "errors": errors, "timeouts": timeouts, "statuses": statuses}


def drive_main(spec_file: str, result_file: str) -> None:
    spec = json.loads(Path(spec_file).read_text(encoding="utf-8"))
    result = asyncio.run(_drive(spec))
    Path(result_file).write_text(json.dumps(result), encoding="utf-8")


def load(
    directory: Path,
    name: str,
    base: str,
    clients: list[dict[str, Any]],
    *,
    seconds: float,
    warmup: float,
    timeout: float,
    processes: int,
    cookie: str,
) -> dict[str, Any]:
    """Spread the clients over ``processes`` generator processes, run them (untimed for
    ``warmup`` seconds, then timed for ``seconds``; ``timeout`` per request), merge their
    latencies, errors, timeouts and unexpected statuses per page."""
    processes = max(1, min(processes, len(clients)))
    started_procs = []
    for p in range(processes):
        spec = {
            "base": base,
            "seconds": seconds,
            "warmup": warmup,
            "timeout": timeout,
            "cookie": cookie,
            "clients": clients[p::processes],
        }
        spec_file = directory / f"{name}-{p}.spec.json"
        result_file = directory / f"{name}-{p}.result.json"
        spec_file.write_text(json.dumps(spec), encoding="utf-8")
        generator = start("benchmarks._load", str(spec_file), str(result_file))
        started_procs.append((generator, result_file))
    merged: dict[str, Any] = {"latencies": {}, "errors": {}, "timeouts": {}, "statuses": {}}
    for process, result_file in started_procs:
        if process.wait() != 0:
            raise SystemExit(f"a load generator failed ({process.returncode})")
        result = json.loads(result_file.read_text(encoding="utf-8"))
        for key in merged:
            for page, value in result[key].items():
                if key == "latencies":
                    merged[key].setdefault(page, []).extend(value)
                else:
                    merged[key][page] = merged[key].get(page, 0) + value
    return merged


if __name__ == "__main__":
    drive_main(*sys.argv[1:])
