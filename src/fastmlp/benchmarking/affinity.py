"""Pin every thread of this process to the first n CPUs for a while, then restore them.

A thread count alone does not bound what a peer uses: XLA's CPU runtime runs work on a second core
even when told to use one thread (the same JAX epoch took 0.11 s unpinned and 0.18 s pinned).
So a contender's n-thread row runs with the whole process on n CPUs. ``os.sched_setaffinity(0,
...)`` would move the calling thread only; thread pools started earlier (XLA's, OpenBLAS's,
OpenMP's, PyTorch's) keep their own masks, so every task of the process is moved, and moved back.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

_TASKS = Path("/proc/self/task")


def supported() -> bool:
    return hasattr(os, "sched_setaffinity") and _TASKS.is_dir()


def _set_all(cpus: set[int]) -> None:
    for task in _TASKS.iterdir():
        with contextlib.suppress(ProcessLookupError, FileNotFoundError):  # a thread that just ended
            os.sched_setaffinity(int(task.name), cpus)


@contextlib.contextmanager
def pinned(n_cpus: int) -> Iterator[set[int]]:
    """Run the block with all of this process's threads on the first ``n_cpus`` allowed CPUs.

    Yields the CPUs used. Does nothing (yields the allowed set) when n_cpus covers them all or
    the platform has no affinity control. Threads started inside the block inherit the mask and
    are restored with the others.
    """
    if not supported():
        yield set()
        return
    allowed = os.sched_getaffinity(0)
    if n_cpus >= len(allowed):
        yield allowed
        return
    chosen = set(sorted(allowed)[:n_cpus])
    _set_all(chosen)
    try:
        yield chosen
    finally:
        _set_all(allowed)
