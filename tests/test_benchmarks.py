"""The benchmark scripts still run (at a tiny scale) and end with one JSON line: a
benchmark that broke silently would leave the figures in the README unmeasurable."""

from __future__ import annotations

import json
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


@pytest.mark.parametrize("name", sorted(TINY))
def test_benchmark_runs_and_prints_its_figures(name: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{name}", *TINY[name]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert isinstance(figures, dict) and figures
