"""The processes of a benchmark: servers and load generators each in a process of its
own, so that none shares an event loop (or the interpreter lock) with what it measures.

Starting one (a module of ``benchmarks`` run with ``-m``), waiting until it listens,
stopping it, reading its CPU time, and the bare aiohttp server whose rate on the same
load is the generator's ceiling on this machine.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
TRIVIAL_BODY = "<!doctype html><title>ok</title><p>ok</p>\n"


def start(module: str, *args: str) -> subprocess.Popen[bytes]:
    """``python -m module args…`` from the repository's root."""
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def stop(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit("server did not start")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) a process has used so far: per request, a
    figure that other load on the machine disturbs far less than a rate. 0 where
    ``/proc`` is missing (not Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve_bare(port: int) -> None:
    """The trivial handler (the generator's ceiling for pages) and an inbox that reads
    the body and answers 202 (the ceiling for signed POSTs, or a partner's inbox)."""

    async def trivial(_request: web.Request) -> web.Response:
        return web.Response(text=TRIVIAL_BODY, content_type="text/html")

    async def inbox(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"status": "accepted"}, status=202)

    app = web.Application()
    app.router.add_get("/trivial", trivial)
    app.router.add_post("/inbox", inbox)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)
