"""Wall time, CPU time and peak resident memory of a step of a benchmark.

Peak memory is the process's resident set (VmHWM), reset before each step where the
kernel allows it, because BLAS buffers are invisible to ``tracemalloc``. It includes what
the process held before the step; ``rss_before`` says how much that was.
"""

from __future__ import annotations

import ctypes
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_kib(field: str) -> int:
    for line in _STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux ≥ 4.0); False where not permitted."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def release_freed_memory() -> None:
    """Hand memory the allocator keeps after ``free`` back to the system (glibc).

    Between repeated runs in one process: each thread's arena keeps what the previous
    run freed, which would count in the next run's peak, while the node runs a full
    computation in a fresh process."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.malloc_trim(0)


_open_peaks: list[int] = []
"""Peaks (KiB) seen so far by each enclosing step, since an inner step resets VmHWM."""


@contextmanager
def measured(figures: dict[str, Any], name: str) -> Iterator[None]:
    """Record wall and CPU seconds and peak RSS (MiB) of the enclosed step under ``name``.

    CPU seconds (all threads) tell how much work a step is when other processes compete
    and wall time mostly measures the neighbours.
    """
    before = _status_kib("VmRSS")
    if _open_peaks:
        _open_peaks[-1] = max(_open_peaks[-1], _status_kib("VmHWM"))
    exact = _reset_peak()
    _open_peaks.append(0)
    start = time.perf_counter()
    cpu_start = time.process_time()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        peak = max(_open_peaks.pop(), _status_kib("VmHWM"))
        if _open_peaks:
            _open_peaks[-1] = max(_open_peaks[-1], peak)
    figures[f"{name}_s"] = round(elapsed, 3)
    figures[f"{name}_cpu_s"] = round(cpu, 3)
    figures[f"{name}_peak_mib"] = round(peak / 1024, 1)
    figures[f"{name}_rss_before_mib"] = round(before / 1024, 1)
    if not exact:
        figures[f"{name}_peak_is_process_peak"] = True


def median_of(runs: list[dict[str, Any]], key: str) -> float:
    """The median of one figure over repeated runs (the figure of a single run as is)."""
    return round(statistics.median(run[key] for run in runs), 3)
