"""One thread budget for all of fastmlp's compute, and its one owner.

``set_num_threads(n)`` sets the budget: the C++ native epoch's team reads ``get_num_threads()``
when each call starts (and, on a busy machine, runs a batch on fewer of them while that is
faster; see README "Threads"). NumPy's BLAS, where the numpy and numba backends' GEMMs run,
stays at one thread whatever the budget: a batch's GEMM takes about 0.2 ms, and OpenBLAS's
threads synchronise inside every call, so with any other process busy beside it a 2-thread
BLAS epoch was measured 8-11x slower than a 1-thread one (docs/performance.md, round 3), against
a gain of about 1.2x on an idle machine. ``blas_threads(n)`` raises BLAS for a block of code
that is not fastmlp's (the benchmark's NumPy peers). This module is the only place that sets a
thread count. Importing fastmlp applies the default budget, 1.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import numpy  # noqa: F401 - loads NumPy's BLAS, so that the limit below finds it
from threadpoolctl import threadpool_limits

from .errors import FastmlpTypeError, FastmlpValueError

_num_threads = 1
# BLAS's thread count for fastmlp's kernels (batch-sized GEMMs): one, see the module docstring.
FASTMLP_BLAS_THREADS = 1


def get_num_threads() -> int:
    """The number of compute threads fastmlp's kernels currently use."""
    return _num_threads


def max_threads() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_threads() -> int:
    """The thread count ``fastmlp train`` (and ``fastmlp bench``'s default row) use without --threads.

    Every core: the C++ epoch runs a batch on its whole team only while that is measured faster
    than its leader alone (a busy machine, a layer too small to split), and the numpy and numba
    backends keep BLAS at one thread, so the default is never meant to be slower than one thread.
    """
    return max_threads()


def check_count(n: int, argument: str) -> int:
    """``n`` if it is a thread count this process can run (1 to its cores), else a clear error."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise FastmlpTypeError(f"{argument} must be an int, got {type(n).__name__}")
    if not 1 <= n <= max_threads():
        raise FastmlpValueError(
            f"{argument} must be between 1 and {max_threads()} (the cores available), got {n}"
        )
    return n


def set_num_threads(n: int) -> None:
    """Use ``n`` compute threads (1 <= n <= number of cores) in fastmlp's native epochs.

    NumPy's BLAS stays at one thread (see the module docstring).
    """
    global _num_threads
    check_count(n, "n")
    _num_threads = n
    threadpool_limits(limits=FASTMLP_BLAS_THREADS, user_api="blas")


@contextlib.contextmanager
def thread_budget(n: int) -> Iterator[None]:
    """Run the block with fastmlp's compute budget at ``n`` threads, then restore the budget before
    (also on an exception or Ctrl-C): the one place that saves and restores it."""
    global _num_threads
    check_count(n, "n")
    before = _num_threads
    # Only the count changes: BLAS stays at FASTMLP_BLAS_THREADS whatever the budget, so the block
    # need not re-apply that limit, whose scan of the loaded libraries cost 3.5 ms each time (7 ms
    # of every scikit-learn fit with n_threads, on top of 80 ms fits of a 50,000-row table).
    _num_threads = n
    try:
        yield
    finally:
        _num_threads = before


@contextlib.contextmanager
def blas_threads(n: int) -> Iterator[None]:
    """Run the block with NumPy's BLAS on ``n`` threads, then back at fastmlp's one.

    For NumPy code that is not fastmlp's (``fastmlp bench``'s assignment-style NumPy and GEMM
    floor rows at n threads); fastmlp's own kernels never need it.
    """
    check_count(n, "n")
    with threadpool_limits(limits=n, user_api="blas"):
        yield


threadpool_limits(limits=FASTMLP_BLAS_THREADS, user_api="blas")
