"""Worker processes for rendering: WeasyPrint is single-threaded and CPU-bound (mostly laying out text), so
documents render side by side in a pool of processes, one per core and at least one per document of a pack
(three), started on first use and kept.

Processes are spawned, never forked, so a worker never inherits a web worker's threads, locks or database
connections. A pool whose worker died is replaced and the work is tried once more.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

Result = TypeVar("Result")

_pool: ProcessPoolExecutor | None = None
_lock = threading.Lock()


# The three documents of one pack render at once even on two cores: the pack then takes about half the time
# of the three one after another, not that of the two longest (benchmarks/README.md).
AT_LEAST = 3


def processes() -> int:
    """One per core this process may run on (a container's CPU limit included), and at least AT_LEAST."""
    return max(AT_LEAST, len(os.sched_getaffinity(0)))


def run(task: Callable[..., Result], jobs: Sequence[tuple[Any, ...]], *,
        on_done: Callable[[], None] | None = None) -> list[Result]:
    """`task(*job)` for every job, in worker processes; the results in the order of `jobs`."""
    try:
        return _run(task, jobs, on_done)
    except BrokenProcessPool:
        _discard_pool()
        return _run(task, jobs, on_done)


def _run(task: Callable[..., Result], jobs: Sequence[tuple[Any, ...]],
         on_done: Callable[[], None] | None) -> list[Result]:
    futures: list[Future[Result]] = [_get_pool().submit(task, *job) for job in jobs]
    for _ in as_completed(futures):
        if on_done is not None:
            on_done()
    return [future.result() for future in futures]


def _get_pool() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=processes(), mp_context=multiprocessing.get_context("spawn"))
        return _pool


def _discard_pool() -> None:
    global _pool
    with _lock:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None
