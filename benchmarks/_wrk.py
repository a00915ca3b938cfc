"""A load generator in C for signed POSTs: wrk, sending requests signed beforehand.

A Python client spends more CPU per request than a bare aiohttp server does, so on a
machine of two cores it cannot show how fast the bare server is, only how fast the
client is. wrk (Debian's package ``wrk``) can: ``presigned.lua`` makes it send each of
the requests written here once (signatures, dates and activity ids differ per request,
so none can be replayed), for a fixed time, and report latencies from its histogram.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SCRIPT = Path(__file__).with_name("presigned.lua")
THREADS = 2


def available() -> bool:
    return shutil.which("wrk") is not None


def raw_request(url: str, headers: dict[str, str], body: bytes) -> bytes:
    """The request as bytes on the wire (HTTP/1.1, kept alive)."""
    parts = urlsplit(url)
    lines = [f"POST {parts.path} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value}" for name, value in headers.items() if name.lower() != "host"]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def drive(
    url: str,
    requests: list[tuple[dict[str, str], bytes]],
    seconds: float,
    connections: int,
    *,
    may_cycle: bool = False,
) -> dict[str, Any]:
    """``requests`` sent for ``seconds`` over ``connections``; the figures of
    ``benchmarks.inbox.drive``. Unless ``may_cycle`` (a server that ignores what it is
    sent), running out of requests before the time is up is an error: the rest would
    be repeats."""
    with tempfile.NamedTemporaryFile(suffix=".requests") as file:
        for headers, body in requests:
            raw = raw_request(url, headers, body)
            file.write(b"%d\n%s" % (len(raw), raw))
        file.flush()
        command = [
            "wrk",
            f"-t{THREADS}",
            f"-c{max(connections, THREADS)}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(SCRIPT),
            url,
            "--",
            file.name,
            str(THREADS),
        ]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    figures = json.loads(output.strip().splitlines()[-1])
    if figures["cycled"] and not may_cycle:
        raise SystemExit(
            f"wrk sent all {len(requests)} signed requests before {seconds} s were up: "
            "raise --requests or lower --seconds"
        )
    elapsed = figures["duration_us"] / 1e6
    failed = figures["status_errors"]
    broken = sum(figures[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts"))
    return {
        "requests": figures["requests"],
        "seconds": round(elapsed, 3),
        "per_second": round(figures["requests"] / elapsed, 1),
        "p50_ms": round(figures["p50_us"] / 1000, 2),
        "p99_ms": round(figures["p99_us"] / 1000, 2),
        "statuses": {"2xx": figures["requests"] - failed, "other": failed, "broken": broken},
        "cycled": figures["cycled"],
    }
