"""``zwilling demo`` as a person runs it: both nodes up on the ports asked for, twins
found and printed as forecast, Ctrl-C stops them, the next start keeps the data,
``--fresh`` removes only a demo's data."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import httpx
import pytest

from node.cli import build_parser
from node.cli._demo import demo_root
from node.demo.forecast import DemoSide, forecast_twins, summary
from node.demo.pair import DemoError, clear
from node.demo.population import population
from node.runtime.config import load_config
from node.runtime.keys import load_keys

ROOT = Path(__file__).resolve().parents[2]
READY = "Ctrl-C stops both nodes"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_ports() -> tuple[int, int]:
    """Two free ports, so that a running demo does not get in the way."""
    while True:
        ports = (free_port(), free_port())
        if ports[0] != ports[1]:
            return ports


async def start_demo(data: Path, ports: tuple[int, int]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "node.cli",
        "demo",
        "--data-dir",
        str(data),
        "--ports",
        f"{ports[0]},{ports[1]}",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


async def read_until(process: asyncio.subprocess.Process, marker: str, within: float) -> str:
    assert process.stdout is not None
    seen: list[str] = []

    async def reader() -> None:
        while True:
            line = (await process.stdout.readline()).decode()
            if not line:
                raise AssertionError("demo ended early:\n" + "".join(seen))
            seen.append(line)
            if marker in line:
                return

    await asyncio.wait_for(reader(), within)
    return "".join(seen)


async def interrupt(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGINT)
    rest, _ = await asyncio.wait_for(process.communicate(), 60)
    return rest.decode()


async def test_demo_runs_the_pair_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    oldenburg_port, cholet_port = ports = free_ports()
    data = tmp_path / "demo"
    process = await start_demo(data, ports)
    try:
        output = await read_until(process, READY, within=360)
        assert "300 residents created" in output and "180 residents created" in output
        assert "Jürgen Krogmann and Gilles Bourdouleix are twins" in output
        assert f"http://127.0.0.1:{oldenburg_port}/" in output
        # What the running nodes matched is what the forecast of these configs says.
        configs = [
            load_config(data / slug / "node.toml", data_dir=data / slug, environ={})
            for slug in ("oldenburg", "cholet")
        ]
        assert [c.listen.port for c in configs] == list(ports)
        assert configs[0].peers[0].actor_url == f"http://127.0.0.1:{cholet_port}/actor"
        expected = summary(
            [DemoSide(c, population(c.node.slug)) for c in configs], forecast_twins(*configs)
        )
        assert "\n".join(expected[1:]) in output
        assert "juergen.krogmann@oldenburg.example" in output
        assert "gilles.bourdouleix@cholet.example" in output
        async with httpx.AsyncClient() as client:
            for port, portal in ((oldenburg_port, "MeinZwilling"), (cholet_port, "MonJumeau")):
                page = await client.get(f"http://127.0.0.1:{port}/")
                assert page.status_code == 200
                assert portal in page.text
                assert (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
    finally:
        if process.returncode is None:
            rest = await interrupt(process)
    assert process.returncode == 0, rest
    assert "Stopped." in rest

    # Each written config pins the partner's actual keys.
    oldenburg = load_config(data / "oldenburg" / "node.toml", data_dir=data / "oldenburg")
    cholet_keys = load_keys(load_config(data / "cholet" / "node.toml", data_dir=data / "cholet"))
    assert oldenburg.peers[0].fingerprints == [
        cholet_keys.rsa_fingerprint,
        cholet_keys.ed25519_fingerprint,
    ]

    # A second start keeps the residents; Ctrl-C while it is still matching stops it too.
    process = await start_demo(data, ports)
    try:
        output = await read_until(process, "Both nodes are up", within=120)
        assert output.count("residents kept") == 2
    finally:
        rest = await interrupt(process)
    assert process.returncode == 0, rest
    assert "Stopped." in rest


def test_fresh_removes_only_a_demo_directory(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "node.db").write_text("city data")
    with pytest.raises(DemoError, match="not the demo's"):
        clear(precious)
    assert (precious / "node.db").exists()

    demo = tmp_path / "demo"
    demo.mkdir()
    (demo / ".zwilling-demo").write_text("")
    (demo / "node.db").write_text("demo data")
    clear(demo)
    assert not demo.exists()


@pytest.mark.parametrize(
    ("argv", "environ", "expected"),
    [
        (["demo"], {}, "data/demo"),
        (["demo"], {"ZWILLING_DATA_DIR": "/srv/demo"}, "/srv/demo"),
        (["--data-dir", "/a", "demo"], {"ZWILLING_DATA_DIR": "/srv/demo"}, "/a"),
        (["demo", "--data-dir", "/b"], {"ZWILLING_DATA_DIR": "/srv/demo"}, "/b"),
    ],
)
def test_data_directory_from_option_environment_or_default(
    argv: list[str], environ: dict[str, str], expected: str
) -> None:
    args = build_parser().parse_args(argv)
    assert demo_root(args, environ) == Path(expected).absolute()


def test_ports_option_takes_two_distinct_ports(capsys: pytest.CaptureFixture[str]) -> None:
    assert build_parser().parse_args(["demo", "--ports", "8501, 8502"]).ports == (8501, 8502)
    assert build_parser().parse_args(["demo"]).ports is None
    for wrong in ("8501", "8501,8501", "8501,70000", "a,b", "1,2,3"):
        with pytest.raises(SystemExit) as exit_info:
            build_parser().parse_args(["demo", "--ports", wrong])
        assert exit_info.value.code == 2
        assert "--ports" in capsys.readouterr().err
