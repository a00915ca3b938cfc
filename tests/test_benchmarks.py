"""The benchmark scripts still run (at a tiny scale) and end with one JSON line: a
benchmark that broke silently would leave the figures in the README unmeasurable."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

TINY = {
    "city": ["--oldenburg", "300", "--cholet", "200", "--readers", "2", "--idle-seconds", "0.5"],
    "matching": [
        "--oldenburg",
        "600",
        "--cholet",
        "300",
        "--refresh-samples",
        "3",
        "--repeats",
        "1",
        "--sample",
        "20",
        "--no-baseline",
    ],
    "publication": ["--residents", "300", "--edits", "2"],
    "inbox": [
        "--requests",
        "40",
        "--warmup",
        "5",
        "--concurrency",
        "4",
        "--activity",
        "profile",
        "--generator",
        "aiohttp",
        "--clients",
        "2",
    ],
    "resync": ["--profiles", "600"],
    "people": ["--cholet", "300", "--requests", "11"],
    "pages": [
        "--local",
        "300",
        "--partner",
        "100",
        "--clients",
        "3",
        "--seconds",
        "2",
        "--ceiling-seconds",
        "1",
        "--warmup",
        "0.5",
        "--processes",
        "1",
        "--background",
        "--settle",
        "1",
    ],
}


def _figures(name: str, *args: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{name}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert isinstance(figures, dict) and figures
    return figures


@pytest.mark.parametrize("name", sorted(TINY))
def test_benchmark_runs_and_prints_its_figures(name: str) -> None:
    _figures(name, *TINY[name])


def test_inbox_benchmark_times_the_node_with_wrk() -> None:
    """wrk sends each signed request once: every answer a 202, no request sent twice,
    and the node stored at least every activity it answered."""
    if shutil.which("wrk") is None:
        reason = "wrk is not installed (apt-get install wrk)"
        if os.environ.get("ZWILLING_REQUIRE_WRK") == "1":
            pytest.fail(f"ZWILLING_REQUIRE_WRK=1 but {reason}")
        pytest.skip(reason)
    figures = _figures(
        "inbox",
        *("--requests", "4000", "--seconds", "1", "--warmup", "5", "--concurrency", "4"),
    )
    node, bare = figures["node"], figures["bare"]
    assert isinstance(node, dict) and isinstance(bare, dict)
    assert figures["generator"] == "wrk"
    assert node["requests"] > 0 and node["cycled"] == 0
    assert node["statuses"] == {"2xx": node["requests"], "other": 0, "broken": 0}
    assert bare["statuses"]["other"] == 0
    assert isinstance(figures["stored"], int)
    assert figures["stored"] >= 5 + node["answered_in_all"]
