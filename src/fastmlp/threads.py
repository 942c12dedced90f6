"""One thread budget for all of fastmlp's compute, and its one owner.

Two thread pools fighting over two cores are far slower than one (a 0.2 ms GEMM was measured
taking 30 ms), so fastmlp keeps BLAS at the budget too. This module is the only place that sets
a thread count: ``set_num_threads(n)`` sets the budget and limits NumPy's BLAS (through
threadpoolctl; the numpy and numba backends' GEMMs run there). The C++ backend reads
``get_num_threads()`` when each call starts. Importing fastmlp applies the default budget, 1.
"""

from __future__ import annotations

import os

import numpy  # noqa: F401 - loads NumPy's BLAS, so that the limit below finds it
from threadpoolctl import threadpool_limits

from .errors import FastmlpTypeError, FastmlpValueError

_num_threads = 1


def get_num_threads() -> int:
    """The number of compute threads fastmlp's kernels currently use."""
    return _num_threads


def max_threads() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def set_num_threads(n: int) -> None:
    """Use ``n`` compute threads (1 <= n <= number of cores) in every backend."""
    global _num_threads
    if isinstance(n, bool) or not isinstance(n, int):
        raise FastmlpTypeError(f"n must be an int, got {type(n).__name__}")
    if not 1 <= n <= max_threads():
        raise FastmlpValueError(f"n must be between 1 and {max_threads()} (the cores available), got {n}")
    _num_threads = n
    threadpool_limits(limits=n, user_api="blas")


threadpool_limits(limits=_num_threads, user_api="blas")
