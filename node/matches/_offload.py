"""Where a full computation's CPU work runs: a worker thread, or a process of its own.

Matching two whole cities holds the interpreter lock in its Python parts for seconds on
end; in a thread of the node's process, every page view then waits for the lock at each
of its database round trips. In a process of its own it competes for a core only, which
the operating system shares out fairly (the process also lowers its own priority, so
pages come first), and the memory of the computation returns to the system when it
ends. Starting a process costs about half a second, which a small population's
computation (milliseconds) is not worth: those run in a thread.

The process is a fresh interpreter started for each computation: it inherits none of
the node's state, connections or event loop, and it does not re-run the program that
started the node (as ``multiprocessing`` would with the main module). Job and result
travel pickled over its standard input and output; pickling and unpickling happen in
threads, the event loop only waits. A cancelled computation ends the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from typing import IO, Any, TypeVar

Job = TypeVar("Job")
Result = TypeVar("Result")

NICENESS = 5
"""How much lower the computation's process runs than the node's (pages come first)."""

_CHILD = "from node.matches._offload import serve; serve()"


async def offloaded(
    function: Callable[[Job], Result], job: Job, *, in_process: bool
) -> tuple[Result, str]:
    """``function(job)`` in a process of its own or a worker thread, and which it was."""
    if in_process:
        return await run_in_process(function, job), "process"
    return await asyncio.to_thread(function, job), "thread"


async def run_in_process(function: Callable[[Job], Result], job: Job) -> Result:
    """``function(job)`` in a fresh process; its exception is raised here."""
    process = await asyncio.to_thread(
        subprocess.Popen,
        [sys.executable, "-c", _CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert process.stdin is not None and process.stdout is not None
        await asyncio.to_thread(_send, process.stdin, (list(sys.path), function, job))
        outcome, value = await asyncio.to_thread(_receive, process.stdout)
    finally:
        # Cancelled (or failed): ending the process ends the threads on its pipes.
        if process.poll() is None and not _finished(process):
            process.kill()
        await asyncio.to_thread(process.wait)
    if outcome == "error":
        raise value
    result: Result = value
    return result


def _finished(process: subprocess.Popen[bytes]) -> bool:
    try:
        process.wait(timeout=0.2)  # it exits right after answering
    except subprocess.TimeoutExpired:
        return False
    return True


def _send(pipe: IO[bytes], message: tuple[list[str], Callable[[Any], Any], Any]) -> None:
    path, function, job = message
    with pipe:
        pickle.dump(path, pipe, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump((function, job), pipe, protocol=pickle.HIGHEST_PROTOCOL)


def _receive(pipe: IO[bytes]) -> tuple[str, Any]:
    with pipe:
        try:
            answer: tuple[str, Any] = pickle.load(pipe)  # noqa: S301 (our own child)
        except EOFError:
            raise RuntimeError("the matching process ended without an answer") from None
    return answer


def serve() -> None:
    """The process's whole life: one job in, one result (or exception) out."""
    with contextlib.suppress(OSError):  # not permitted: the node's priority, then
        os.nice(NICENESS)
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # anything printed must not corrupt the answer
    sys.path[:] = pickle.load(source)  # noqa: S301 (from the node that started it)
    function, job = pickle.load(source)  # noqa: S301
    try:
        answer: tuple[str, Any] = ("ok", function(job))
    except Exception as exc:  # handed to the caller, which raises it
        answer = ("error", exc)
    pickle.dump(answer, sink, protocol=pickle.HIGHEST_PROTOCOL)
    sink.flush()
