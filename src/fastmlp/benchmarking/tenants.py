"""CPU-bound processes beside a benchmark (``fastmlp bench --tenant N``): a machine that is not idle.

A user's machine runs other things: a browser, an IDE indexing, a second training run. Each
tenant here is one Python process spinning at the same priority, like
``python -c 'while True: pass'``. ``busy_processes(n)`` starts them, yields, and always stops
them (an error, Ctrl-C); each also exits by itself within moments if this process dies without
stopping it (it watches its parent's pid), so none is ever left behind.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator

from ..errors import FastmlpTypeError, FastmlpValueError

# Busy work in pure Python, checking between rounds (about a millisecond) that its parent lives.
# SIGINT is ignored: Ctrl-C stops the benchmark, which stops its tenants (no tracebacks from them).
_TENANT = """
import os, signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
parent = int(os.environ["FASTMLP_TENANT_PARENT"])
while os.getppid() == parent:
    for _ in range(20_000):
        pass
"""


@contextlib.contextmanager
def busy_processes(n: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Run the block with ``n`` CPU-bound processes beside it (n >= 0); yields them."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise FastmlpTypeError(f"tenant must be an int, got {type(n).__name__}")
    if n < 0:
        raise FastmlpValueError(f"tenant must be >= 0, got {n}")
    env = {**os.environ, "FASTMLP_TENANT_PARENT": str(os.getpid())}
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(n):
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-c", _TENANT],
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    start_new_session=True,  # the terminal's Ctrl-C goes to the bench, not to them
                )
            )
        yield processes
    finally:
        for process in processes:
            process.kill()
        for process in processes:
            process.wait()
