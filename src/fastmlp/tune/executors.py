"""Run trials side by side: in local worker processes (loky, as joblib uses) or on a Dask cluster.

Both give the same small interface: ``submit`` a call, ``wait`` for at least one to finish,
``close``. The study runner keeps at most one trial per worker in flight, so it can stop
submitting at the trial budget or the timeout without a queue of trials to cancel.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Iterable
from typing import Any

from .._cluster import connect, require_distributed


class Inline:
    """No pool: each trial runs in this process when submitted (``--jobs 1``)."""

    workers = 1

    def submit(self, function: Callable[..., Any], *args: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        try:
            future.set_result(function(*args))
        except Exception as error:
            future.set_exception(error)
        return future

    def wait(self, pending: Iterable[Any]) -> set[Any]:
        return set(pending)

    def close(self, *, cancel: bool = False) -> None:
        pass


class LocalProcesses:
    """``workers`` worker processes (loky's reusable executor, the one joblib runs on)."""

    def __init__(self, workers: int) -> None:
        from joblib.externals.loky import get_reusable_executor

        self.workers = workers
        self._executor = get_reusable_executor(max_workers=workers)

    def submit(self, function: Callable[..., Any], *args: Any) -> Any:
        return self._executor.submit(function, *args)

    def wait(self, pending: Iterable[Any]) -> set[Any]:
        done, _ = concurrent.futures.wait(list(pending), return_when=concurrent.futures.FIRST_COMPLETED)
        return set(done)

    def close(self, *, cancel: bool = False) -> None:
        # On Ctrl-C the workers got the signal too; killing them ends their trials at once.
        self._executor.shutdown(wait=not cancel, kill_workers=cancel)


class DaskCluster:
    """The Dask distributed scheduler at ``address``; one trial per worker thread unless told."""

    def __init__(self, address: str, workers: int | None) -> None:
        self._wait = require_distributed("tune").wait
        self._client = connect(address, "tune")
        self.workers = workers or max(1, sum(self._client.nthreads().values()))

    def submit(self, function: Callable[..., Any], *args: Any) -> Any:
        return self._client.submit(function, *args, pure=False)

    def wait(self, pending: Iterable[Any]) -> set[Any]:
        done, _ = self._wait(list(pending), return_when="FIRST_COMPLETED")
        return set(done)

    def close(self, *, cancel: bool = False) -> None:
        self._client.close()


def make_executor(
    jobs: int, scheduler: str | None, jobs_given: bool
) -> Inline | LocalProcesses | DaskCluster:
    if scheduler is not None:
        return DaskCluster(scheduler, jobs if jobs_given else None)
    return Inline() if jobs == 1 else LocalProcesses(jobs)
