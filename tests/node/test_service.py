"""A node started on a free loopback port answers its health check."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from node.runtime import appkeys
from support.nodes import bound_socket, prepare_node


async def test_healthz_answers_when_database_answers(tmp_path: Path, database_url: str) -> None:
    node = await prepare_node(tmp_path, "oldenburg", database_url)
    await node.start(extensions=[])
    try:
        async with httpx.AsyncClient() as client:
            response = await client.get(f"{node.url}/healthz")
        assert response.status_code == 200
        assert response.json()["status"] == "ok"
        assert "X-Request-Id" in response.headers
    finally:
        await node.stop()


async def test_healthz_503_when_database_is_gone(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gone' / 'node.db'}"
    node = await prepare_node(tmp_path, "oldenburg", url)
    await node.start(extensions=[], run_workers=False)
    try:
        assert node.app is not None
        # Close the pool first: no open connection may recreate the files meanwhile.
        await node.app[appkeys.DATABASE].dispose()
        for file in (tmp_path / "gone").iterdir():
            file.unlink()
        (tmp_path / "gone").rmdir()
        (tmp_path / "gone").write_text("not a directory any more")
        async with httpx.AsyncClient() as client:
            response = await client.get(f"{node.url}/healthz")
        assert response.status_code == 503
        assert response.json()["status"] == "unavailable"
    finally:
        await node.stop()


def test_run_serves_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    base = [
        sys.executable,
        "-m",
        "node.cli",
        "--config",
        str(root / "config" / "cholet.toml"),
        "--data-dir",
        str(tmp_path),
    ]
    assert subprocess.run([*base, "init"], capture_output=True, timeout=120).returncode == 0
    sock = bound_socket()
    port = sock.getsockname()[1]
    sock.close()
    process = subprocess.Popen(
        [*base, "run", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, process.stderr
                time.sleep(0.2)
        assert response.status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        logs = process.stderr.read()
        assert '"event": "request"' in logs and '"request_id"' in logs
        assert "Traceback" not in logs
    finally:
        if process.poll() is None:
            process.kill()
